{{ config(materialized="table") }}

{#- One row per "invoice" of the KPIs (DESIGN.md §8): an ACCREC invoice, AUTHORISED or
    PAID, that exists in Xero. Amounts in EUR use the FX seed at the invoice date; the
    invoice's customer is the HubSpot company its Xero contact links to. A rebuild after a
    day's Xero changes computes only the invoices whose rows, payments or credit
    allocations changed (`changed_inputs_only`, macros/incremental/changed_inputs.sql). -#}

-- depends_on: {{ ref('int_xero_invoice_inputs_hashed') }}

with

invoices as (
    select * from {{ ref('stg_xero__invoices') }}
    where {{ changed_inputs_only('xero_invoice_id') }}
),

contacts as (
    select * from {{ ref('int_xero_contacts_linked') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

settlements as (
    select * from {{ ref('int_invoice_settlements_unioned') }}
    where {{ changed_inputs_only('xero_invoice_id') }}
),

posted as (
    select *
    from invoices
    where invoices.invoice_type = 'ACCREC'
        and invoices.invoice_status in ('AUTHORISED', 'PAID')
),

contact_companies as (
    select
        contacts.xero_contact_id,
        min(contacts.hubspot_company_id) as hubspot_company_id
    from contacts
    where contacts.xero_contact_id is not null
    group by contacts.xero_contact_id
),

converted as (
    select
        posted.xero_invoice_id,
        posted.invoice_number,
        posted.reference,
        posted.xero_contact_id,
        contact_companies.hubspot_company_id,
        posted.invoice_date,
        posted.due_date,
        posted.currency_code,
        posted.total,
        case when posted.currency_code = 'EUR' then 1 else fx_rates.units_per_eur end as units_per_eur
    from posted
    left join contact_companies
        on posted.xero_contact_id = contact_companies.xero_contact_id
    asof left join fx_rates
        on posted.currency_code = fx_rates.currency_code
        and posted.invoice_date >= fx_rates.rate_date
),

settled as (
    -- the first date on which payments and credit allocations cover the total
    select
        converted.xero_invoice_id,
        min(running.settlement_date) filter (where running.settled_to_date >= converted.total) as settled_date,
        bool_or(
            running.settlement_kind = 'credit_allocation'
            and running.settlement_date <= {{ as_of_date() }}
            and running.settlement_date between converted.invoice_date and converted.invoice_date + 90
        ) as has_credit_within_90_days
    from converted
    inner join (
        select
            settlements.xero_invoice_id,
            settlements.settlement_date,
            settlements.settlement_kind,
            sum(settlements.amount) over (
                partition by settlements.xero_invoice_id
                order by settlements.settlement_date
                range between unbounded preceding and current row
            ) as settled_to_date
        from settlements
    ) as running
        on converted.xero_invoice_id = running.xero_invoice_id
    group by converted.xero_invoice_id
),

final as (
    select
        converted.xero_invoice_id,
        converted.invoice_number,
        converted.xero_contact_id,
        converted.hubspot_company_id,
        converted.invoice_date,
        strftime(converted.invoice_date, '%Y-%m') as invoice_month,
        converted.due_date,
        strftime(converted.due_date, '%Y-%m') as due_month,
        converted.currency_code,
        converted.total,
        converted.units_per_eur,
        cast(converted.total / converted.units_per_eur as double) as total_eur,
        coalesce(converted.reference like 'TG-%' and length(converted.reference) = 15, false) as is_automated,
        settled.settled_date,
        coalesce(settled.has_credit_within_90_days, false) as has_credit_within_90_days,
        -- dunning level ≥ 1: settled 14 or more days after due, or still open then
        converted.due_date + {{ var('dunning_level_days')[0] }} <= {{ as_of_date() }}
            and (settled.settled_date is null or settled.settled_date >= converted.due_date + {{ var('dunning_level_days')[0] }})
            as has_reached_dunning
    from converted
    left join settled
        on converted.xero_invoice_id = settled.xero_invoice_id
)

select * from final
