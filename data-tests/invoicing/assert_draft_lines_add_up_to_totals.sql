-- Every draft's lines re-add to its totals to the cent (DESIGN.md §7: totals add up
-- exactly): net = Σ line amounts, line_count = number of lines, gross = net + tax, and
-- tax = round(net × rate, 2) for its single tax category. Returns the drafts that don't.

with

drafts as (
    select * from {{ ref('fct_invoice_drafts') }}
),

lines as (
    select * from {{ ref('fct_invoice_draft_lines') }}
),

line_totals as (
    select
        lines.draft_key,
        sum(lines.line_amount) as lines_net,
        count(*) as lines_count,
        bool_and(lines.line_amount = {{ round_money('lines.quantity * lines.unit_amount') }}) as are_lines_rounded
    from lines
    group by lines.draft_key
),

final as (
    select
        drafts.draft_key,
        drafts.net,
        line_totals.lines_net,
        drafts.line_count,
        line_totals.lines_count,
        drafts.tax,
        drafts.gross
    from drafts
    left join line_totals
        on drafts.draft_key = line_totals.draft_key
    where
        line_totals.draft_key is null
        or drafts.net != line_totals.lines_net
        or drafts.line_count != line_totals.lines_count
        or drafts.gross != drafts.net + drafts.tax
        or drafts.tax != {{ round_money('drafts.net * drafts.tax_rate_percent / 100') }}
        or not line_totals.are_lines_rounded
)

select * from final
