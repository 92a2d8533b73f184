{#- AUTHORISED or PAID ACCREC invoice (dated by as_of) with payments whose sum (all
    accounts, cash discount included, by as_of) differs from total − credit allocations
    beyond tolerance — unless the gap is exactly the customer's cash discount
    (round(total × percent / 100, 2)) and the last bank payment came within the discount
    days of the invoice date. Keyed by the invoice and its last payment (the one that left
    the gap). At stake: |gap| (EUR at the invoice date). -#}

with

invoices as (

    select * from {{ ref('int_xero_invoices_enriched') }}

),

companies as (

    select * from {{ ref('int_companies_linked') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

gaps as (

    select
        invoices.*,
        invoices.total - invoices.credited_amount - invoices.paid_amount as gap,
        companies.cash_discount_percent,
        companies.cash_discount_days,
        {{ round_money('invoices.total * companies.cash_discount_percent / 100') }} as cash_discount,
        fx_rates.units_per_eur
    from invoices
    left join companies
        on invoices.hubspot_company_id = companies.hubspot_company_id
    left join fx_rates
        on invoices.invoice_date = fx_rates.rate_date
        and invoices.currency_code = fx_rates.currency_code
    where invoices.is_posted
        and invoices.invoice_date <= {{ as_of_date() }}
        and invoices.payment_count > 0

),

flagged as (

    select * from gaps
    where {{ exceeds_tolerance('gaps.gap', 'gaps.total', 'gaps.units_per_eur') }}
        and not coalesce(
            gaps.cash_discount_percent > 0
            and gaps.last_bank_payment_date is not null
            and gaps.gap = gaps.cash_discount
            and gaps.last_bank_payment_date - gaps.invoice_date <= coalesce(gaps.cash_discount_days, 0),
            false
        )

),

final as (

    select
        'payment_mismatch' as check_name,
        json_object('xero_invoice_id', flagged.xero_invoice_id, 'xero_payment_id', flagged.last_xero_payment_id)
            as finding_keys,
        flagged.xero_invoice_id,
        flagged.last_xero_payment_id as xero_payment_id,
        flagged.xero_contact_id,
        flagged.hubspot_company_id,
        {{ round_money('abs(flagged.gap)') }} as amount_at_stake,
        flagged.currency_code,
        {{ to_eur('abs(flagged.gap)', 'flagged.units_per_eur') }} as amount_at_stake_eur,
        flagged.last_payment_date as issue_date,
        false as blocks_draft,
        'accountant' as owner_role,
        'Invoice ' || coalesce(flagged.invoice_number, flagged.xero_invoice_id) || ' over '
            || cast(flagged.total as varchar) || ' ' || flagged.currency_code || ' received payments of '
            || cast(flagged.paid_amount as varchar) || ' and credits of ' || cast(flagged.credited_amount as varchar)
            || ', leaving ' || cast(flagged.gap as varchar) || ' unexplained (no cash discount in time).' as explanation
    from flagged

)

select * from final
