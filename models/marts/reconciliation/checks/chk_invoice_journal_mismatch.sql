{#- AUTHORISED or PAID ACCREC invoice whose ACCREC journals (all of them, dated by as_of)
    differ from it beyond tolerance (max(1.00 EUR, 0.5 % of the EUR total)) in gross
    (receivables lines), net (revenue lines) or tax (output-VAT lines), the invoice taken
    in EUR at its own CurrencyRate, as Xero posts it. At stake: |total − journal gross| in
    EUR; in the invoice currency that gap × CurrencyRate. -#}

with

invoices as (

    select * from {{ ref('int_xero_invoices_enriched') }}

),

journals as (

    select * from {{ ref('int_journals_summarized') }}

),

journal_totals as (

    select
        journals.source_id as xero_invoice_id,
        string_agg(journals.xero_journal_id, ',' order by journals.journal_number) as xero_journal_ids,
        sum(journals.receivables_gross_eur) as gross_eur,
        sum(journals.revenue_net_eur) as net_eur,
        sum(journals.output_vat_eur) as tax_eur
    from journals
    where journals.source_type = 'ACCREC'
    group by 1

),

compared as (

    select
        invoices.*,
        journal_totals.xero_journal_ids,
        journal_totals.gross_eur,
        journal_totals.net_eur,
        journal_totals.tax_eur,
        abs(invoices.total_eur_at_invoice_rate - journal_totals.gross_eur) as gross_gap_eur
    from invoices
    inner join journal_totals
        on invoices.xero_invoice_id = journal_totals.xero_invoice_id
    where invoices.is_posted
        and invoices.invoice_date <= {{ as_of_date() }}
        and (
            {{ exceeds_tolerance('invoices.total_eur_at_invoice_rate - journal_totals.gross_eur', 'invoices.total_eur_at_invoice_rate') }}
            or {{ exceeds_tolerance('invoices.sub_total_eur_at_invoice_rate - journal_totals.net_eur', 'invoices.total_eur_at_invoice_rate') }}
            or {{ exceeds_tolerance('invoices.total_tax_eur_at_invoice_rate - journal_totals.tax_eur', 'invoices.total_eur_at_invoice_rate') }}
        )

),

final as (

    select
        'invoice_journal_mismatch' as check_name,
        json_object('xero_invoice_id', compared.xero_invoice_id) as finding_keys,
        compared.xero_invoice_id,
        compared.xero_journal_ids,
        compared.xero_contact_id,
        compared.hubspot_company_id,
        {{ round_money('compared.gross_gap_eur * compared.currency_rate') }} as amount_at_stake,
        compared.currency_code,
        cast(compared.gross_gap_eur as decimal(18, 2)) as amount_at_stake_eur,
        compared.invoice_date as issue_date,
        false as blocks_draft,
        'accountant' as owner_role,
        'Invoice ' || coalesce(compared.invoice_number, compared.xero_invoice_id) || ' comes to '
            || cast(compared.total_eur_at_invoice_rate as varchar) || ' EUR gross, '
            || cast(compared.sub_total_eur_at_invoice_rate as varchar) || ' net and '
            || cast(compared.total_tax_eur_at_invoice_rate as varchar) || ' tax at its own rate, but its journal posts '
            || cast(compared.gross_eur as varchar) || ' / ' || cast(compared.net_eur as varchar) || ' / '
            || cast(compared.tax_eur as varchar) || ' EUR.' as explanation
    from compared

)

select * from final
