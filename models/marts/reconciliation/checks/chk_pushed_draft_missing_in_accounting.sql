{#- Push-ledger record that succeeded (pushed by as_of), but neither its Xero invoice id
    nor its Reference (the draft key) exists in Xero. At stake: its gross (EUR at the push
    date). -#}

with

ledger as (

    select * from {{ ref('stg_taktgeber__push_ledger') }}

),

invoices as (

    select * from {{ ref('stg_xero__invoices') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

missing as (

    select
        ledger.*,
        coalesce(cast(ledger.pushed_at as date), {{ as_of_date() }}) as pushed_on
    from ledger
    where ledger.push_status = 'succeeded'
        and coalesce(cast(ledger.pushed_at as date), {{ as_of_date() }}) <= {{ as_of_date() }}
        -- one `not exists` per key (an `or` inside one would be a nested loop)
        and not exists (
            select 1 from invoices
            where invoices.xero_invoice_id = ledger.xero_invoice_id
        )
        and not exists (
            select 1 from invoices
            where invoices.reference = coalesce(ledger.reference, ledger.draft_key)
        )

),

final as (

    select
        'pushed_draft_missing_in_accounting' as check_name,
        json_object('draft_key', missing.draft_key) as finding_keys,
        missing.draft_key,
        missing.xero_invoice_id,
        missing.xero_contact_id,
        missing.hubspot_company_id,
        missing.harvest_project_id,
        abs(missing.total) as amount_at_stake,
        missing.currency_code,
        {{ to_eur('abs(missing.total)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        missing.pushed_on as issue_date,
        false as blocks_draft,
        'billing_clerk' as owner_role,
        'Draft ' || missing.draft_key || ' was pushed on ' || strftime(missing.pushed_on, '%Y-%m-%d')
            || ' as invoice ' || coalesce(missing.xero_invoice_number, missing.xero_invoice_id, '?')
            || ' but Xero has no invoice with that id or reference.' as explanation
    from missing
    left join fx_rates
        on missing.pushed_on = fx_rates.rate_date
        and missing.currency_code = fx_rates.currency_code

)

select * from final
