{#- One row per HubSpot company: its EN 16931 tax category for drafts (DESIGN.md §7),
    billing terms and whether reverse charge is blocked by a missing or invalid VAT id. -#}

with

companies as (
    select * from {{ ref('int_companies_linked') }}
),

tax_categories as (
    select * from {{ ref('tax_categories') }}
),

located as (
    select
        companies.hubspot_company_id,
        companies.xero_contact_id,
        upper(trim(companies.country_code)) as country_code,
        companies.vat_id,
        coalesce(companies.is_vat_id_valid, false) as is_vat_id_valid,
        coalesce(companies.payment_terms_days, 0) as payment_terms_days,
        coalesce(companies.cash_discount_percent, 0) as cash_discount_percent,
        coalesce(companies.cash_discount_days, 0) as cash_discount_days,
        coalesce(companies.invoice_grouping, 'collective') as invoice_grouping,
        case
            -- no country on the company: treated as domestic (VAT is charged, never waived)
            when companies.country_code is null
                or upper(trim(companies.country_code)) = upper('{{ var("seller_country") }}')
                then 'domestic'
            when upper(trim(companies.country_code)) in {{ eu_country_codes() }}
                then 'eu'
            else 'non_eu'
        end as customer_location
    from companies
    where companies.hubspot_company_id is not null
),

categorised as (
    select
        located.*,
        case
            when located.customer_location = 'domestic' then 'S'
            when located.customer_location = 'eu' and located.is_vat_id_valid then 'AE'
            -- an EU business without a valid VAT id is charged VAT, and its drafts are blocked
            when located.customer_location = 'eu' then 'S'
            else 'O'
        end as tax_category,
        (located.customer_location = 'eu' and not located.is_vat_id_valid)
            as has_missing_vat_id_for_reverse_charge
    from located
),

final as (
    select
        categorised.hubspot_company_id,
        categorised.xero_contact_id,
        categorised.country_code,
        categorised.vat_id,
        categorised.is_vat_id_valid,
        categorised.customer_location,
        categorised.tax_category,
        tax_categories.xero_tax_type,
        cast(tax_categories.rate_percent as decimal(9, 4)) as tax_rate_percent,
        categorised.has_missing_vat_id_for_reverse_charge,
        categorised.payment_terms_days,
        cast(categorised.cash_discount_percent as decimal(9, 4)) as cash_discount_percent,
        categorised.cash_discount_days,
        categorised.invoice_grouping
    from categorised
    left join tax_categories
        on categorised.tax_category = tax_categories.tax_category
)

select * from final
