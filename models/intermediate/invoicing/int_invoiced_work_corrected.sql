{#- Corrections (DESIGN.md §7): per posted ACCREC invoice (AUTHORISED or PAID) that bills
    source records, what it should bill now against what it billed. Records billed on it
    that are no longer billable (made non-billable) or no longer approved (unapproved) are
    credited at their value, one line each; whatever else the invoice's net exceeds the
    still-billable work by (hours cut), net of the credit notes allocated to it by
    `as_of_date` (credited_amount of int_xero_invoices_enriched), is one more line. Still-billable work is valued by the draft line rule (time per project
    × service type × rate: round(Σ hours × rate, 2); each expense and milestone on its
    own). One row per correction line; no rows when the invoice bills no more than its
    work is worth now.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a rebuild after
    time entries, invoices or the push ledger changed recomputes the invoices that billed a
    reached work record before or bill one now, and the changed invoices. -#}

{%- set narrow = rebuild_is_narrowed() %}

with

invoices as (
    select * from {{ ref('stg_xero__invoices') }}
),

invoice_line_items as (
    select * from {{ ref('stg_xero__invoice_line_items') }}
),

billings as (
    -- the "billed on" rule of DESIGN.md §4, in one place
    select * from {{ ref('int_work_billings_linked') }}
),

work_items as (
    select * from {{ ref('int_work_items_billed') }}
),

invoices_settled as (
    -- credited_amount: credit allocations up to as_of_date (int_credit_allocations_dated)
    select * from {{ ref('int_xero_invoices_enriched') }}
),

posted as (
    select
        invoices.xero_invoice_id,
        invoices.dlt_id,
        invoices.invoice_number,
        invoices.reference,
        invoices.xero_contact_id,
        invoices.invoice_date,
        invoices.currency_code,
        invoices.sub_total,
        invoices.total
    from invoices
    where invoices.invoice_type = 'ACCREC'
        and invoices.invoice_status in ('AUTHORISED', 'PAID')
    {%- if narrow %}
        and invoices.xero_invoice_id in {{ reached_invoices() }}
    {%- endif %}
),

billed_records as (
    select
        billings.xero_invoice_id,
        billings.work_item_kind,
        billings.source_id,
        work_items.harvest_time_entry_id,
        work_items.harvest_expense_id,
        case when billings.work_item_kind = 'milestone' then billings.source_id end as hubspot_line_item_id,
        work_items.harvest_project_id,
        case when billings.work_item_kind != 'milestone' then work_items.service_type end as service_type,
        case
            -- a milestone still billable = still on the schedule of a closed-won fixed-price deal
            when billings.work_item_kind = 'milestone' then work_items.work_item_id is not null
            else coalesce(work_items.is_billable and work_items.is_approved, false)
        end as is_still_billable,
        case
            when billings.work_item_kind = 'milestone' then null
            when not coalesce(work_items.is_billable, false) then 'made_non_billable'
            when not coalesce(work_items.is_approved, false) then 'unapproved'
        end as correction_reason,
        case when billings.work_item_kind = 'time' then work_items.quantity else 1 end as quantity,
        case
            when billings.work_item_kind = 'time' then coalesce(work_items.unit_amount, 0)
            else work_items.value
        end as unit_amount
    from billings
    left join work_items
        on billings.work_item_id = work_items.work_item_id
    where billings.is_posted
    {%- if narrow %}
        and billings.xero_invoice_id in {{ reached_invoices() }}
    {%- endif %}
),

kept_lines as (
    select
        billed_records.xero_invoice_id,
        {{ round_money('sum(billed_records.quantity) * any_value(billed_records.unit_amount)') }} as line_amount
    from billed_records
    where billed_records.is_still_billable
    group by
        billed_records.xero_invoice_id,
        case
            when billed_records.work_item_kind = 'time'
                then concat_ws('|', billed_records.harvest_project_id, billed_records.service_type, billed_records.unit_amount)
            else billed_records.work_item_kind || '|' || billed_records.source_id
        end
),

removed_lines as (
    select
        billed_records.*,
        {{ round_money('billed_records.quantity * billed_records.unit_amount') }} as line_amount
    from billed_records
    where billed_records.correction_reason is not null
),

credited as (
    -- net part of the credit allocated by as_of_date: allocation × sub_total / total
    select
        posted.xero_invoice_id,
        {{ round_money('invoices_settled.credited_amount * posted.sub_total / nullif(posted.total, 0)') }} as credited_net
    from posted
    inner join invoices_settled
        on posted.xero_invoice_id = invoices_settled.xero_invoice_id
    where invoices_settled.credited_amount != 0
),

balanced as (
    select
        posted.*,
        coalesce(credited.credited_net, 0) as credited_net,
        coalesce((select sum(kept_lines.line_amount) from kept_lines where kept_lines.xero_invoice_id = posted.xero_invoice_id), 0) as kept_net,
        posted.sub_total
            - coalesce(credited.credited_net, 0)
            - coalesce((select sum(kept_lines.line_amount) from kept_lines where kept_lines.xero_invoice_id = posted.xero_invoice_id), 0)
            as correction_net
    from posted
    left join credited
        on posted.xero_invoice_id = credited.xero_invoice_id
    where posted.xero_invoice_id in (select billed_records.xero_invoice_id from billed_records)
),

removed_in_correction as (
    -- credit removed records only as far as the invoice still has net left to correct
    select
        removed_lines.*,
        sum(removed_lines.line_amount) over (
            partition by removed_lines.xero_invoice_id
            order by removed_lines.work_item_kind, removed_lines.source_id
        ) as running_amount
    from removed_lines
),

correction_lines as (
    select
        balanced.xero_invoice_id,
        removed_in_correction.work_item_kind as kind,
        removed_in_correction.correction_reason,
        removed_in_correction.source_id,
        removed_in_correction.harvest_time_entry_id,
        removed_in_correction.harvest_expense_id,
        removed_in_correction.hubspot_line_item_id,
        removed_in_correction.harvest_project_id,
        removed_in_correction.service_type,
        cast(removed_in_correction.quantity as decimal(18, 4)) as quantity,
        cast(removed_in_correction.unit_amount as decimal(18, 4)) as unit_amount,
        removed_in_correction.line_amount
    from balanced
    inner join removed_in_correction
        on balanced.xero_invoice_id = removed_in_correction.xero_invoice_id
    where balanced.correction_net > 0
        and removed_in_correction.running_amount <= balanced.correction_net
    union all
    select
        balanced.xero_invoice_id,
        'time' as kind,
        'hours_reduced' as correction_reason,
        null as source_id,
        null as harvest_time_entry_id,
        null as harvest_expense_id,
        null as hubspot_line_item_id,
        null as harvest_project_id,
        null as service_type,
        cast(1 as decimal(18, 4)) as quantity,
        cast(balanced.correction_net - coalesce(removed_totals.removed_net, 0) as decimal(18, 4)) as unit_amount,
        cast(balanced.correction_net - coalesce(removed_totals.removed_net, 0) as decimal(18, 2)) as line_amount
    from balanced
    left join (
        select
            removed_in_correction.xero_invoice_id,
            sum(removed_in_correction.line_amount) as removed_net
        from removed_in_correction
        inner join balanced as b
            on removed_in_correction.xero_invoice_id = b.xero_invoice_id
        where removed_in_correction.running_amount <= b.correction_net
        group by removed_in_correction.xero_invoice_id
    ) as removed_totals
        on balanced.xero_invoice_id = removed_totals.xero_invoice_id
    where balanced.correction_net > 0
        and balanced.correction_net - coalesce(removed_totals.removed_net, 0) > 0
),

final as (
    select
        correction_lines.xero_invoice_id || '#' || coalesce(correction_lines.kind || ':' || correction_lines.source_id, 'residual') as correction_line_id,
        balanced.xero_invoice_id,
        balanced.invoice_number,
        balanced.reference,
        balanced.xero_contact_id,
        balanced.invoice_date,
        balanced.currency_code,
        (
            select invoice_line_items.tax_type
            from invoice_line_items
            where invoice_line_items.invoice_dlt_id = balanced.dlt_id
            order by invoice_line_items.position
            limit 1
        ) as xero_tax_type,
        correction_lines.*
            exclude (xero_invoice_id)
    from correction_lines
    inner join balanced
        on correction_lines.xero_invoice_id = balanced.xero_invoice_id
)

select * from final
