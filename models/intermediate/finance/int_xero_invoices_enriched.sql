{#- One row per Xero invoice with its customer company, EUR amounts at the FX seed on
    the invoice date (`*_eur`) and at the invoice's own CurrencyRate (`*_eur_at_invoice_rate`,
    as Xero posts it), and what settled it up to `as_of_date`: payments (all accounts, the
    cash-discount account included; deleted ones excluded), credit-note allocations
    credited by then (int_credit_allocations_dated: the one home of that rule; the
    corrections and the billed-at-most-once test read `credited_amount` from here), amount
    due, days past due and dunning level. A rebuild after a day's Xero changes computes
    only the invoices whose rows, payments or credit allocations changed
    (`changed_inputs_only`, macros/incremental/changed_inputs.sql). -#}

-- depends_on: {{ ref('int_xero_invoice_inputs_hashed') }}

with

invoices as (

    select * from {{ ref('stg_xero__invoices') }}
    where {{ changed_inputs_only('xero_invoice_id') }}

),

contacts_linked as (

    select * from {{ ref('int_xero_contacts_linked') }}

),

payments as (

    select * from {{ ref('stg_xero__payments') }}
    where {{ changed_inputs_only('xero_invoice_id') }}

),

credit_allocations as (

    select * from {{ ref('int_credit_allocations_dated') }}
    where {{ changed_inputs_only('xero_invoice_id') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

account_roles as (

    select * from {{ ref('account_roles') }}

),

discount_account as (

    select
        coalesce(max(account_roles.account_code) filter (where account_roles.role = 'cash_discount'),
            '{{ var("cash_discount_account_code") }}') as account_code
    from account_roles

),

invoice_payments as (

    select
        payments.xero_invoice_id,
        sum(payments.amount) as paid_amount,
        sum(payments.amount) filter (where payments.account_code = discount_account.account_code)
            as cash_discount_amount,
        count(*) as payment_count,
        arg_max(payments.xero_payment_id, (payments.payment_date, payments.xero_payment_id))
            as last_xero_payment_id,
        max(payments.payment_date) filter (where payments.account_code <> discount_account.account_code
            or payments.account_code is null) as last_bank_payment_date,
        max(payments.payment_date) as last_payment_date
    from payments
    cross join discount_account
    where coalesce(payments.payment_status, '') <> 'DELETED'
        and payments.xero_invoice_id is not null
        and payments.payment_date <= {{ as_of_date() }}
    group by 1

),

invoice_credits as (

    select
        credit_allocations.xero_invoice_id,
        sum(credit_allocations.amount) as credited_amount,
        min(credit_allocations.credited_date) as first_credit_date
    from credit_allocations
    where credit_allocations.credited_date <= {{ as_of_date() }}
    group by 1

),

measured as (

    select
        invoices.*,
        contacts_linked.hubspot_company_id,
        fx_rates.units_per_eur,
        cast(coalesce(invoice_payments.paid_amount, 0) as decimal(18, 2)) as paid_amount,
        cast(coalesce(invoice_payments.cash_discount_amount, 0) as decimal(18, 2)) as cash_discount_paid_amount,
        coalesce(invoice_payments.payment_count, 0) as payment_count,
        invoice_payments.last_xero_payment_id,
        invoice_payments.last_payment_date,
        invoice_payments.last_bank_payment_date,
        cast(coalesce(invoice_credits.credited_amount, 0) as decimal(18, 2)) as credited_amount,
        invoice_credits.first_credit_date
    from invoices
    left join contacts_linked
        on invoices.xero_contact_id = contacts_linked.xero_contact_id
    left join fx_rates
        on invoices.invoice_date = fx_rates.rate_date
        and invoices.currency_code = fx_rates.currency_code
    left join invoice_payments
        on invoices.xero_invoice_id = invoice_payments.xero_invoice_id
    left join invoice_credits
        on invoices.xero_invoice_id = invoice_credits.xero_invoice_id

),

final as (

    select
        measured.xero_invoice_id,
        measured.invoice_number,
        measured.reference,
        coalesce(regexp_full_match(measured.reference, 'TG-[0-9a-f]{12}'), false) as is_pushed,
        measured.invoice_type,
        measured.invoice_status,
        measured.invoice_type = 'ACCREC' and measured.invoice_status in ('AUTHORISED', 'PAID')
            as is_posted,
        measured.invoice_type = 'ACCREC'
            and measured.invoice_status in ('DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID')
            as is_live,
        measured.xero_contact_id,
        measured.hubspot_company_id,
        measured.invoice_date,
        measured.due_date,
        measured.currency_code,
        measured.currency_rate,
        measured.sub_total,
        measured.total_tax,
        measured.total,
        measured.units_per_eur as fx_units_per_eur,
        {{ round_money('measured.sub_total / measured.units_per_eur') }} as sub_total_eur,
        {{ round_money('measured.total_tax / measured.units_per_eur') }} as total_tax_eur,
        {{ round_money('measured.total / measured.units_per_eur') }} as total_eur,
        {{ round_money('measured.sub_total / nullif(measured.currency_rate, 0)') }} as sub_total_eur_at_invoice_rate,
        {{ round_money('measured.total_tax / nullif(measured.currency_rate, 0)') }} as total_tax_eur_at_invoice_rate,
        {{ round_money('measured.total / nullif(measured.currency_rate, 0)') }} as total_eur_at_invoice_rate,
        measured.paid_amount,
        measured.cash_discount_paid_amount,
        measured.payment_count,
        measured.last_xero_payment_id,
        measured.last_payment_date,
        measured.last_bank_payment_date,
        measured.credited_amount,
        measured.first_credit_date,
        cast(measured.total - measured.paid_amount - measured.credited_amount as decimal(18, 2))
            as amount_due,
        measured.amount_due as amount_due_reported,
        cast({{ as_of_date() }} - measured.due_date as integer) as days_past_due,
        {%- set levels = var('dunning_level_days') %}
        case
            {%- for days in levels | reverse %}
            when {{ as_of_date() }} - measured.due_date >= {{ days }} then {{ levels | length - loop.index0 }}
            {%- endfor %}
            else 0
        end as dunning_level
    from measured

)

select * from final
