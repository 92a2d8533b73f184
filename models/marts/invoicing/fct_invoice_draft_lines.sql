{#- The lines of each invoice-ready draft (DESIGN.md §7), with the source ids each bills;
    read by the push job. -#}

with

lines as (
    select * from {{ ref('int_draft_lines_grouped') }}
),

final as (
    select
        lines.draft_line_id,
        lines.draft_key,
        lines.line_no,
        lines.kind,
        lines.description,
        lines.quantity,
        lines.unit_amount,
        lines.line_amount,
        lines.account_code,
        cast(lines.harvest_project_id as bigint) as harvest_project_id,
        lines.service_type,
        lines.harvest_time_entry_ids,
        lines.harvest_expense_ids,
        lines.hubspot_line_item_ids
    from lines
)

select * from final
