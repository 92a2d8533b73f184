{#- AUTHORISED or PAID ACCREC invoice dated by as_of with no ACCREC journal (dated by
    as_of) whose SourceID is the invoice. At stake: its total (EUR at the invoice date). -#}

with

invoices as (

    select * from {{ ref('int_xero_invoices_enriched') }}

),

journals as (

    select * from {{ ref('int_journals_summarized') }}

),

posted as (

    select distinct journals.source_id
    from journals
    where journals.source_type = 'ACCREC'

),

final as (

    select
        'invoice_not_posted' as check_name,
        json_object('xero_invoice_id', invoices.xero_invoice_id) as finding_keys,
        invoices.xero_invoice_id,
        invoices.xero_contact_id,
        invoices.hubspot_company_id,
        abs(invoices.total) as amount_at_stake,
        invoices.currency_code,
        abs(invoices.total_eur) as amount_at_stake_eur,
        invoices.invoice_date as issue_date,
        false as blocks_draft,
        'accountant' as owner_role,
        'Invoice ' || coalesce(invoices.invoice_number, invoices.xero_invoice_id) || ' of '
            || strftime(invoices.invoice_date, '%Y-%m-%d') || ' over ' || cast(invoices.total as varchar) || ' '
            || invoices.currency_code || ' is ' || lower(invoices.invoice_status)
            || ' but has no journal in the ledger.' as explanation
    from invoices
    left join posted
        on invoices.xero_invoice_id = posted.source_id
    where invoices.is_posted
        and invoices.invoice_date <= {{ as_of_date() }}
        and posted.source_id is null

)

select * from final
