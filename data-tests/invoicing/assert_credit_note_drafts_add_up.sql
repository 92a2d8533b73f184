-- Every credit-note draft's lines re-add to its totals to the cent, like invoice drafts.

with

credit_notes as (
    select * from {{ ref('fct_credit_note_drafts') }}
),

lines as (
    select * from {{ ref('fct_credit_note_draft_lines') }}
),

line_totals as (
    select
        lines.draft_key,
        sum(lines.line_amount) as lines_net,
        count(*) as lines_count
    from lines
    group by lines.draft_key
),

final as (
    select
        credit_notes.draft_key,
        credit_notes.net,
        line_totals.lines_net
    from credit_notes
    left join line_totals
        on credit_notes.draft_key = line_totals.draft_key
    where
        line_totals.draft_key is null
        or credit_notes.net != line_totals.lines_net
        or credit_notes.line_count != line_totals.lines_count
        or credit_notes.gross != credit_notes.net + credit_notes.tax
)

select * from final
