{#- AUTHORISED or PAID ACCREC invoice (dated by as_of) with an amount due > 0 (total −
    payments − credit allocations, by as_of) at least the first dunning level's days
    (14) past due; dunning level 1 / 2 / 3 at 14 / 28 / 42 days. At stake: the amount due
    (EUR at the invoice date). -#}

with

invoices as (

    select * from {{ ref('int_xero_invoices_enriched') }}

),

final as (

    select
        'overdue_receivable' as check_name,
        json_object('xero_invoice_id', invoices.xero_invoice_id) as finding_keys,
        invoices.xero_invoice_id,
        invoices.xero_contact_id,
        invoices.hubspot_company_id,
        invoices.amount_due as amount_at_stake,
        invoices.currency_code,
        {{ to_eur('invoices.amount_due', 'invoices.fx_units_per_eur') }} as amount_at_stake_eur,
        invoices.dunning_level,
        invoices.due_date as issue_date,
        false as blocks_draft,
        'credit_controller' as owner_role,
        'Invoice ' || coalesce(invoices.invoice_number, invoices.xero_invoice_id) || ' still has '
            || cast(invoices.amount_due as varchar) || ' ' || invoices.currency_code || ' open, '
            || invoices.days_past_due || ' days after its due date ' || strftime(invoices.due_date, '%Y-%m-%d')
            || ': dunning level ' || invoices.dunning_level || '.' as explanation
    from invoices
    where invoices.is_posted
        and invoices.invoice_date <= {{ as_of_date() }}
        and invoices.due_date is not null
        and invoices.amount_due > 0
        and invoices.dunning_level >= 1

)

select * from final
