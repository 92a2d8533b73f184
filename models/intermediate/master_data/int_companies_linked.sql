{#- One row per HubSpot company with its Xero contact and Harvest client and how each
    was linked (DESIGN.md §4). A company's contact is the one linked by id, else by VAT id,
    else by name (lowest contact id within a method); its client the lowest client id
    with the same normalised name. VAT validity: python-stdnum, country of the company. -#}

with

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

contacts_linked as (

    select * from {{ ref('int_xero_contacts_linked') }}

),

clients_linked as (

    select * from {{ ref('int_harvest_clients_linked') }}

),

contact_ranked as (

    select
        contacts_linked.hubspot_company_id,
        contacts_linked.xero_contact_id,
        contacts_linked.contact_link_method,
        row_number() over (
            partition by contacts_linked.hubspot_company_id
            order by
                case contacts_linked.contact_link_method when 'id' then 1 when 'vat_id' then 2 else 3 end,
                contacts_linked.xero_contact_id
        ) as preference
    from contacts_linked
    where contacts_linked.hubspot_company_id is not null

),

client_ranked as (

    select
        clients_linked.hubspot_company_id,
        clients_linked.harvest_client_id,
        row_number() over (
            partition by clients_linked.hubspot_company_id
            order by clients_linked.harvest_client_id
        ) as preference
    from clients_linked
    where clients_linked.hubspot_company_id is not null

),

final as (

    select
        companies.hubspot_company_id,
        companies.company_name,
        contact_ranked.xero_contact_id,
        coalesce(contact_ranked.contact_link_method, 'none') as contact_link_method,
        client_ranked.harvest_client_id,
        case when client_ranked.harvest_client_id is null then 'none' else 'name' end
            as client_link_method,
        companies.country_code,
        companies.vat_id,
        tg_is_valid_vat_id(companies.country_code, companies.vat_id) as is_vat_id_valid,
        companies.payment_terms_days,
        companies.cash_discount_percent,
        companies.cash_discount_days,
        companies.invoice_grouping
    from companies
    left join contact_ranked
        on companies.hubspot_company_id = contact_ranked.hubspot_company_id
        and contact_ranked.preference = 1
    left join client_ranked
        on companies.hubspot_company_id = client_ranked.hubspot_company_id
        and client_ranked.preference = 1

)

select * from final
