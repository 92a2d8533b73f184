{#- Credit-note drafts (DESIGN.md §7 corrections), one row per corrected invoice: invoiced
    work changed afterwards (hours cut, made non-billable, unapproved) is credited for the
    difference, referencing the original invoice number. Read by the push job. -#}

with

corrections as (
    select * from {{ ref('int_invoiced_work_corrected') }}
),

contacts as (
    select * from {{ ref('int_xero_contacts_linked') }}
),

tax_categories as (
    select * from {{ ref('tax_categories') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

drafts as (
    select
        {{ draft_key("list_concat([any_value(corrections.invoice_number)], list(corrections.source_id) filter (where corrections.source_id is not null))") }}
            as draft_key,
        corrections.xero_invoice_id,
        any_value(corrections.invoice_number) as original_invoice_number,
        any_value(corrections.reference) as original_reference,
        any_value(corrections.xero_contact_id) as xero_contact_id,
        any_value(corrections.currency_code) as currency_code,
        any_value(corrections.invoice_date) as invoice_date,
        any_value(corrections.xero_tax_type) as xero_tax_type,
        sum(corrections.line_amount) as net_amount,
        count(*) as line_count,
        list_sort(list(distinct corrections.correction_reason)) as correction_reasons
    from corrections
    group by corrections.xero_invoice_id
),

totalled as (
    select
        drafts.*,
        contacts.hubspot_company_id,
        coalesce(tax_categories.tax_category, 'S') as tax_category,
        coalesce(tax_categories.rate_percent, 19) as tax_rate_percent,
        {{ as_of_date() }} as draft_date,
        {{ round_money('drafts.net_amount * coalesce(tax_categories.rate_percent, 19) / 100') }} as tax_amount
    from drafts
    left join contacts
        on drafts.xero_contact_id = contacts.xero_contact_id
    left join tax_categories
        on drafts.xero_tax_type = tax_categories.xero_tax_type
),

issued_credit_notes as (
    -- a correction already created in Xero (its Reference is the draft key) is not
    -- drafted again, allocated or not (a PAID invoice takes no allocation)
    select distinct credit_notes.reference
    from {{ ref('stg_xero__credit_notes') }} as credit_notes
    where credit_notes.reference is not null
        and credit_notes.credit_note_status in ('DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID')
),

final as (
    select
        totalled.draft_key,
        totalled.xero_invoice_id as original_xero_invoice_id,
        totalled.original_invoice_number,
        case
            when totalled.original_reference like 'TG-%' and length(totalled.original_reference) = 15
                then totalled.original_reference
        end as original_draft_key,
        totalled.hubspot_company_id,
        totalled.xero_contact_id,
        cast(null as bigint) as harvest_project_id,
        totalled.currency_code,
        strftime(totalled.invoice_date, '%Y-%m') as billing_month,
        totalled.draft_date,
        totalled.draft_date as due_date,
        totalled.tax_category,
        totalled.xero_tax_type,
        cast(totalled.tax_rate_percent as decimal(14, 4)) as tax_rate_percent,
        cast(totalled.net_amount as decimal(18, 2)) as net,
        totalled.tax_amount as tax,
        cast(totalled.net_amount + totalled.tax_amount as decimal(18, 2)) as gross,
        case
            when totalled.currency_code = 'EUR' then cast(totalled.net_amount as decimal(18, 2))
            else {{ round_money('totalled.net_amount / fx_rates.units_per_eur') }}
        end as net_eur,
        cast(totalled.line_count as integer) as line_count,
        [
            concat('Korrektur zu Rechnung ', totalled.original_invoice_number, ' / correction of invoice ', totalled.original_invoice_number)
        ] as notes,
        'ready' as status,
        cast([] as varchar[]) as reasons,
        totalled.correction_reasons
    from totalled
    asof left join fx_rates
        on totalled.currency_code = fx_rates.currency_code
        and totalled.draft_date >= fx_rates.rate_date
    where totalled.draft_key not in (select issued_credit_notes.reference from issued_credit_notes)
)

select * from final
