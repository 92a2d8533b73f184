{#- One row per Xero contact: the HubSpot company it belongs to and how it was linked
    (DESIGN.md §4): `id` (ContactNumber = company id), else `vat_id` (TaxNumber = the
    company's VAT id), else `name` (normalised names equal), else `none`. Where a VAT id
    or a name fits several companies, the lowest company id wins. It reads no invoices,
    so a day's invoices, payments or pushed drafts leave it (and the companies linked
    through it) as built: whether a contact with sales invoices is a customer contact is
    decided where it is read, in chk_customer_unmatched. -#}

with

contacts as (

    select * from {{ ref('stg_xero__contacts') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

company_by_vat as (

    select
        tg_compact_vat_id(companies.vat_id) as vat_key,
        min(companies.hubspot_company_id) as hubspot_company_id
    from companies
    where tg_compact_vat_id(companies.vat_id) is not null
    group by 1

),

company_by_name as (

    select
        tg_normalize_name(companies.company_name) as name_key,
        min(companies.hubspot_company_id) as hubspot_company_id
    from companies
    where coalesce(tg_normalize_name(companies.company_name), '') <> ''
    group by 1

),

matched as (

    select
        contacts.xero_contact_id,
        contacts.contact_name,
        contacts.contact_number,
        contacts.tax_number,
        contacts.is_customer,
        by_id.hubspot_company_id as company_by_id,
        company_by_vat.hubspot_company_id as company_by_vat,
        company_by_name.hubspot_company_id as company_by_name
    from contacts
    left join companies as by_id
        on contacts.contact_number = by_id.hubspot_company_id
    left join company_by_vat
        on tg_compact_vat_id(contacts.tax_number) = company_by_vat.vat_key
    left join company_by_name
        on tg_normalize_name(contacts.contact_name) = company_by_name.name_key

),

final as (

    select
        matched.xero_contact_id,
        matched.contact_name,
        matched.is_customer,
        coalesce(matched.company_by_id, matched.company_by_vat, matched.company_by_name)
            as hubspot_company_id,
        case
            when matched.company_by_id is not null then 'id'
            when matched.company_by_vat is not null then 'vat_id'
            when matched.company_by_name is not null then 'name'
            else 'none'
        end as contact_link_method
    from matched

)

select * from final
