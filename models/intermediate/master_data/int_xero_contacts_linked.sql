{#- One row per Xero contact: the HubSpot company it belongs to and how it was linked
    (DESIGN.md §4): `id` (ContactNumber = company id), else `vat_id` (TaxNumber = the
    company's VAT id), else `name` (normalised names equal), else `none`. Where a VAT id
    or a name fits several companies, the lowest company id wins. -#}

with

contacts as (

    select * from {{ ref('stg_xero__contacts') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

invoices as (

    select * from {{ ref('stg_xero__invoices') }}

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

contacts_with_receivables as (

    select distinct invoices.xero_contact_id
    from invoices
    where invoices.invoice_type = 'ACCREC'

),

matched as (

    select
        contacts.xero_contact_id,
        contacts.contact_name,
        contacts.contact_number,
        contacts.tax_number,
        contacts.is_customer or contacts_with_receivables.xero_contact_id is not null
            as is_customer_contact,
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
    left join contacts_with_receivables
        on contacts.xero_contact_id = contacts_with_receivables.xero_contact_id

),

final as (

    select
        matched.xero_contact_id,
        matched.contact_name,
        matched.is_customer_contact,
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
