{#- AUTHORISED or PAID ACCREC credit note (dated by as_of) with no allocation credited by
    as_of (an allocation without a date takes the credit note's, int_credit_allocations_dated),
    or whose total exceeds the totals of the invoices it is allocated to. At stake: its
    total when unallocated, else the excess (EUR at the credit note date). -#}

with

credit_notes as (

    select * from {{ ref('stg_xero__credit_notes') }}

),

credit_allocations as (

    select * from {{ ref('int_credit_allocations_dated') }}

),

invoices as (

    select * from {{ ref('stg_xero__invoices') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

targets as (

    select distinct
        credit_allocations.credit_note_dlt_id,
        credit_allocations.xero_invoice_id
    from credit_allocations
    where credit_allocations.credited_date <= {{ as_of_date() }}

),

covered as (

    select
        targets.credit_note_dlt_id,
        count(*) as allocated_invoice_count,
        string_agg(targets.xero_invoice_id, ',' order by targets.xero_invoice_id) as xero_invoice_ids,
        coalesce(sum(invoices.total), 0) as covered_total
    from targets
    left join invoices
        on targets.xero_invoice_id = invoices.xero_invoice_id
    group by 1

),

flagged as (

    select
        credit_notes.*,
        covered.xero_invoice_ids,
        coalesce(covered.allocated_invoice_count, 0) as allocated_invoice_count,
        case
            when covered.credit_note_dlt_id is null then credit_notes.total
            else credit_notes.total - covered.covered_total
        end as unreferenced_amount
    from credit_notes
    left join covered
        on credit_notes.dlt_id = covered.credit_note_dlt_id
    where credit_notes.credit_note_type = 'ACCRECCREDIT'
        and credit_notes.credit_note_status in ('AUTHORISED', 'PAID')
        and credit_notes.credit_note_date <= {{ as_of_date() }}
        and (covered.credit_note_dlt_id is null or credit_notes.total > covered.covered_total)

),

final as (

    select
        'credit_note_without_reference' as check_name,
        json_object('xero_credit_note_id', flagged.xero_credit_note_id) as finding_keys,
        flagged.xero_credit_note_id,
        flagged.xero_invoice_ids,
        flagged.xero_contact_id,
        {{ round_money('abs(flagged.unreferenced_amount)') }} as amount_at_stake,
        flagged.currency_code,
        {{ to_eur('abs(flagged.unreferenced_amount)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        flagged.credit_note_date as issue_date,
        false as blocks_draft,
        'accountant' as owner_role,
        'Credit note ' || coalesce(flagged.credit_note_number, flagged.xero_credit_note_id) || ' over '
            || cast(flagged.total as varchar) || ' ' || flagged.currency_code || ' '
            || case
                when flagged.allocated_invoice_count = 0 then 'is allocated to no invoice'
                else 'credits more than the ' || flagged.allocated_invoice_count || ' invoice(s) it is allocated to'
            end || ', so it is unclear what it corrects.' as explanation
    from flagged
    left join fx_rates
        on flagged.credit_note_date = fx_rates.rate_date
        and flagged.currency_code = fx_rates.currency_code

)

select * from final
