-- Each time entry is billed at most once net of credit notes: its draft lines + the live
-- invoices billing it that are not fully credited − the credit-note drafts crediting it
-- must not exceed 1. Checked for every entry the warehouse drafts or credits; double
-- billing that already exists in Xero alone is the double_billed_work finding's job.

with

draft_lines as (
    select * from {{ ref('fct_invoice_draft_lines') }}
),

credit_lines as (
    select * from {{ ref('fct_credit_note_draft_lines') }}
),

billings as (
    select * from {{ ref('int_work_billings_linked') }}
),

invoices as (
    -- credited_amount: credit allocations up to as_of_date, as double_billed_work counts them
    select * from {{ ref('int_xero_invoices_enriched') }}
),

drafted as (
    select
        unnest(draft_lines.harvest_time_entry_ids) as harvest_time_entry_id,
        1 as billings
    from draft_lines
),

credited as (
    select
        unnest(credit_lines.harvest_time_entry_ids) as harvest_time_entry_id,
        -1 as billings
    from credit_lines
),

touched as (
    select harvest_time_entry_id from drafted
    union
    select harvest_time_entry_id from credited
),

invoiced as (
    -- only the touched entries' billings: every entry's would be grouped for nothing
    select
        cast(billings.source_id as bigint) as harvest_time_entry_id,
        1 as billings
    from billings
    inner join invoices
        on billings.xero_invoice_id = invoices.xero_invoice_id
    where billings.work_item_kind = 'time'
        and invoices.credited_amount < invoices.total
        and billings.harvest_time_entry_id in (select touched.harvest_time_entry_id from touched)
),

final as (
    select
        touched.harvest_time_entry_id,
        sum(counted.billings) as net_billings
    from touched
    inner join (
        select * from drafted
        union all
        select * from credited
        union all
        select * from invoiced
    ) as counted
        on touched.harvest_time_entry_id = counted.harvest_time_entry_id
    group by touched.harvest_time_entry_id
    having sum(counted.billings) > 1
)

select * from final
