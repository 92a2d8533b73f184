{#- Master-data links that failed or used a fallback (DESIGN.md §4):
    - a customer contact in Xero (IsCustomer, or with an ACCREC invoice) linked to a company
      only by VAT id or name, or not at all — keyed by the contact; at stake: the gross of
      its AUTHORISED/PAID invoices dated by as_of (EUR: each at the FX seed on its date);
      in its currency when all share one, else in EUR;
    - a company with a deal won by as_of that no Xero contact links to — keyed by the
      company; nothing invoiced yet, so 0 EUR; it blocks the company's drafts;
    - a Harvest client whose name matches no company — keyed by the client; 0. -#}

with

contacts as (

    select * from {{ ref('int_xero_contacts_linked') }}

),

companies as (

    select * from {{ ref('int_companies_linked') }}

),

clients as (

    select * from {{ ref('int_harvest_clients_linked') }}

),

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

invoices as (

    select * from {{ ref('int_xero_invoices_enriched') }}

),

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

contact_invoices as (

    select
        invoices.xero_contact_id,
        count(*) as invoice_count,
        sum(invoices.total) as total,
        sum(invoices.total_eur) as total_eur,
        count(distinct invoices.currency_code) as currency_count,
        any_value(invoices.currency_code) as currency_code
    from invoices
    where invoices.is_posted
        and invoices.invoice_date <= {{ as_of_date() }}
    group by 1

),

contacts_with_receivables as (

    -- a customer contact: Xero says IsCustomer, or it has a sales (ACCREC) invoice of any
    -- status
    select distinct invoices.xero_contact_id
    from invoices
    where invoices.invoice_type = 'ACCREC'

),

unmatched_contacts as (

    select
        json_object('xero_contact_id', contacts.xero_contact_id) as finding_keys,
        contacts.xero_contact_id,
        contacts.hubspot_company_id,
        cast(null as bigint) as harvest_client_id,
        case when coalesce(contact_invoices.currency_count, 0) = 1 then contact_invoices.total
            else coalesce(contact_invoices.total_eur, 0) end as amount_at_stake,
        case when coalesce(contact_invoices.currency_count, 0) = 1 then contact_invoices.currency_code
            else 'EUR' end as currency_code,
        coalesce(contact_invoices.total_eur, 0) as amount_at_stake_eur,
        false as blocks_draft,
        'Xero contact ' || contacts.xero_contact_id || ' (' || coalesce(contacts.contact_name, 'unnamed') || ') '
            || case contacts.contact_link_method
                when 'none' then 'matches no HubSpot company by number, VAT id or name'
                when 'vat_id' then 'is linked to company ' || contacts.hubspot_company_id || ' only by VAT id, not by ContactNumber'
                else 'is linked to company ' || contacts.hubspot_company_id || ' only by name, not by ContactNumber'
            end || '.' as explanation
    from contacts
    left join contact_invoices
        on contacts.xero_contact_id = contact_invoices.xero_contact_id
    where (
            contacts.is_customer
            or contacts.xero_contact_id in (select contacts_with_receivables.xero_contact_id from contacts_with_receivables)
        )
        and contacts.contact_link_method <> 'id'

),

won_customers as (

    select distinct deals.hubspot_company_id
    from deals
    where deals.is_won
        and deals.close_date <= {{ as_of_date() }}
        and deals.hubspot_company_id is not null

),

draftable_companies as (

    select distinct work_items.hubspot_company_id
    from work_items
    where work_items.is_billable
        and work_items.is_approved
        and not work_items.is_billed
        and (
            (work_items.work_item_kind in ('time', 'expense') and work_items.work_date <= {{ as_of_date() }})
            or (work_items.work_item_kind = 'milestone' and work_items.work_date < {{ as_of_date() }})
        )

),

companies_without_contact as (

    select
        json_object('hubspot_company_id', companies.hubspot_company_id) as finding_keys,
        cast(null as varchar) as xero_contact_id,
        companies.hubspot_company_id,
        companies.harvest_client_id,
        cast(0 as decimal(18, 2)) as amount_at_stake,
        'EUR' as currency_code,
        cast(0 as decimal(18, 2)) as amount_at_stake_eur,
        draftable_companies.hubspot_company_id is not null as blocks_draft,
        'Company ' || companies.hubspot_company_id || ' (' || coalesce(companies.company_name, 'unnamed')
            || ') has a won deal but no Xero contact, so it cannot be invoiced.' as explanation
    from companies
    inner join won_customers
        on companies.hubspot_company_id = won_customers.hubspot_company_id
    left join draftable_companies
        on companies.hubspot_company_id = draftable_companies.hubspot_company_id
    where companies.xero_contact_id is null

),

unmatched_clients as (

    select
        json_object('harvest_client_id', clients.harvest_client_id) as finding_keys,
        cast(null as varchar) as xero_contact_id,
        cast(null as varchar) as hubspot_company_id,
        clients.harvest_client_id,
        cast(0 as decimal(18, 2)) as amount_at_stake,
        coalesce(clients.currency_code, 'EUR') as currency_code,
        cast(0 as decimal(18, 2)) as amount_at_stake_eur,
        false as blocks_draft,
        'Harvest client ' || clients.harvest_client_id || ' (' || coalesce(clients.client_name, 'unnamed')
            || ') matches no HubSpot company by name, so its projects have no customer.' as explanation
    from clients
    where clients.client_link_method = 'none'

),

unioned as (

    select * from unmatched_contacts
    union all
    select * from companies_without_contact
    union all
    select * from unmatched_clients

),

final as (

    select
        'customer_unmatched' as check_name,
        unioned.finding_keys,
        unioned.xero_contact_id,
        unioned.hubspot_company_id,
        unioned.harvest_client_id,
        {{ round_money('unioned.amount_at_stake') }} as amount_at_stake,
        unioned.currency_code,
        {{ round_money('unioned.amount_at_stake_eur') }} as amount_at_stake_eur,
        {{ as_of_date() }} as issue_date,
        unioned.blocks_draft,
        'master_data_steward' as owner_role,
        unioned.explanation
    from unioned

)

select * from final
