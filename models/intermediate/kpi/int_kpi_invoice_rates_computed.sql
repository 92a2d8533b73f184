{#- Invoice-based rates per month and customer (hubspot_company_id = '*' for the whole
    company), as fractions to 4 decimals, half-up:
    - first_correction_rate = invoices dated in the month with a credit allocation dated
      within 90 days of the invoice date ÷ invoices dated in the month;
    - automation_share = invoices dated in the month with a `TG-` reference ÷ invoices
      dated in the month;
    - dunning_rate = invoices due in the month that reached dunning level ≥ 1 (settled 14
      or more days after due, or still open then) ÷ invoices due in the month. -#}

with

invoices as (
    select * from {{ ref('int_invoices_receivable_measured') }}
),

by_invoice_month as (
    select
        invoices.invoice_month as month,
        coalesce(coalesce(invoices.hubspot_company_id, '(unlinked)'), '*') as hubspot_company_id,
        count(*) as invoice_count,
        count(*) filter (where invoices.has_credit_within_90_days) as corrected_count,
        count(*) filter (where invoices.is_automated) as automated_count
    from invoices
    where invoices.invoice_date <= {{ as_of_date() }}
    group by grouping sets (
        (invoices.invoice_month, coalesce(invoices.hubspot_company_id, '(unlinked)')),
        (invoices.invoice_month)
    )
),

by_due_month as (
    select
        invoices.due_month as month,
        coalesce(coalesce(invoices.hubspot_company_id, '(unlinked)'), '*') as hubspot_company_id,
        count(*) as due_count,
        count(*) filter (where invoices.has_reached_dunning) as dunned_count
    from invoices
    where invoices.due_month is not null
    group by grouping sets (
        (invoices.due_month, coalesce(invoices.hubspot_company_id, '(unlinked)')),
        (invoices.due_month)
    )
),

final as (
    select
        coalesce(by_invoice_month.month, by_due_month.month) as month,
        coalesce(by_invoice_month.hubspot_company_id, by_due_month.hubspot_company_id) as hubspot_company_id,
        {{ kpi_ratio('by_invoice_month.corrected_count', 'by_invoice_month.invoice_count') }} as first_correction_rate,
        {{ kpi_ratio('by_invoice_month.automated_count', 'by_invoice_month.invoice_count') }} as automation_share,
        {{ kpi_ratio('by_due_month.dunned_count', 'by_due_month.due_count') }} as dunning_rate
    from by_invoice_month
    full outer join by_due_month
        on by_invoice_month.month = by_due_month.month
        and by_invoice_month.hubspot_company_id = by_due_month.hubspot_company_id
)

select * from final
