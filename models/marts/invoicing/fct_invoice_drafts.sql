{#- Invoice-ready drafts (DESIGN.md §7), one row per draft; read by the push job. -#}

with

items as (
    select * from {{ ref('int_draft_items_selected') }}
),

lines as (
    select * from {{ ref('int_draft_lines_grouped') }}
),

customers as (
    select * from {{ ref('int_customers_tax_classified') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

drafts as (
    select
        items.draft_key,
        any_value(items.hubspot_company_id) as hubspot_company_id,
        any_value(items.draft_project_id) as harvest_project_id,
        any_value(items.currency_code) as currency_code,
        any_value(items.billing_month) as billing_month,
        bool_or(items.has_missing_vat_id_for_reverse_charge) as has_missing_vat_id_for_reverse_charge,
        bool_or(items.has_rate_mismatch) as has_rate_mismatch,
        bool_or(items.is_project_over_budget) as has_project_over_budget,
        bool_or(items.is_customer_unmatched) as is_customer_unmatched
    from items
    group by items.draft_key
),

line_totals as (
    select
        lines.draft_key,
        sum(lines.line_amount) as net_amount,
        count(*) as line_count
    from lines
    group by lines.draft_key
),

totalled as (
    select
        drafts.*,
        {{ as_of_date() }} as draft_date,
        customers.xero_contact_id,
        coalesce(customers.tax_category, 'S') as tax_category,
        customers.xero_tax_type,
        coalesce(customers.tax_rate_percent, 0) as tax_rate_percent,
        customers.payment_terms_days,
        customers.cash_discount_percent,
        customers.cash_discount_days,
        cast(line_totals.net_amount as decimal(18, 2)) as net_amount,
        -- one tax category per draft: tax = round(sum of its line nets × rate, 2)
        {{ round_money('line_totals.net_amount * coalesce(customers.tax_rate_percent, 0) / 100') }}
            as tax_amount,
        line_totals.line_count
    from drafts
    inner join line_totals
        on drafts.draft_key = line_totals.draft_key
    left join customers
        on drafts.hubspot_company_id = customers.hubspot_company_id
),

converted as (
    select
        totalled.*,
        cast(totalled.net_amount + totalled.tax_amount as decimal(18, 2)) as gross_amount,
        case
            when totalled.currency_code = 'EUR' then totalled.net_amount
            else {{ round_money('totalled.net_amount / fx_rates.units_per_eur') }}
        end as net_amount_eur,
        -- the minimum compares the unrounded EUR equivalent
        totalled.net_amount / coalesce(fx_rates.units_per_eur, 1) as net_eur_unrounded
    from totalled
    -- the rate of the draft date, else the last published before it
    asof left join fx_rates
        on totalled.currency_code = fx_rates.currency_code
        and totalled.draft_date >= fx_rates.rate_date
),

assessed as (
    select
        converted.*,
        list_sort(list_filter(
            [
                case when converted.has_missing_vat_id_for_reverse_charge then 'missing_vat_id_for_reverse_charge' end,
                case when converted.has_rate_mismatch then 'rate_mismatch' end,
                case when converted.has_project_over_budget then 'over_budget_without_change_request' end,
                case when converted.is_customer_unmatched then 'customer_unmatched' end
            ],
            lambda reason: reason is not null
        )) as reasons,
        case
            when converted.cash_discount_percent > 0 then converted.draft_date + converted.cash_discount_days
        end as cash_discount_due_date,
        case
            when converted.cash_discount_percent > 0
                then {{ round_money('converted.gross_amount * converted.cash_discount_percent / 100') }}
        end as cash_discount_amount
    from converted
),

final as (
    select
        assessed.draft_key,
        assessed.hubspot_company_id,
        assessed.xero_contact_id,
        cast(assessed.harvest_project_id as bigint) as harvest_project_id,
        assessed.currency_code,
        assessed.billing_month,
        assessed.draft_date,
        assessed.tax_category,
        assessed.xero_tax_type,
        assessed.tax_rate_percent,
        assessed.net_amount as net,
        assessed.tax_amount as tax,
        assessed.gross_amount as gross,
        assessed.net_amount_eur as net_eur,
        cast(assessed.line_count as integer) as line_count,
        cast(assessed.draft_date + coalesce(assessed.payment_terms_days, 0) as date) as due_date,
        cast(coalesce(assessed.payment_terms_days, 0) as integer) as payment_terms_days,
        case when assessed.cash_discount_percent > 0 then assessed.cash_discount_percent end
            as cash_discount_percent,
        cast(assessed.cash_discount_due_date as date) as cash_discount_due_date,
        assessed.cash_discount_amount,
        list_filter(
            [
                case
                    when assessed.tax_category = 'AE'
                        then 'Steuerschuldnerschaft des Leistungsempfängers / reverse charge'
                end,
                case
                    when assessed.cash_discount_percent > 0 then concat(
                        replace(rtrim(rtrim(cast(assessed.cash_discount_percent as varchar), '0'), '.'), '.', ','),
                        ' % Skonto bei Zahlung bis ',
                        strftime(assessed.cash_discount_due_date, '%Y-%m-%d')
                    )
                end
            ],
            lambda note: note is not null
        ) as notes,
        case
            when len(assessed.reasons) > 0 then 'blocked'
            when assessed.net_eur_unrounded < {{ var('minimum_draft_eur') }} then 'deferred'
            else 'ready'
        end as status,
        assessed.reasons,
        array_to_string(assessed.reasons, ', ') as reasons_text
    from assessed
)

select * from final
