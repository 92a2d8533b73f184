{#- MANJOURNAL journal (dated by as_of) with a line on a revenue account: revenue booked
    outside invoicing. At stake: |net of its revenue lines| (EUR). -#}

with

journals as (

    select * from {{ ref('int_journals_summarized') }}

),

final as (

    select
        'manual_revenue_posting' as check_name,
        json_object('xero_journal_id', journals.xero_journal_id) as finding_keys,
        journals.xero_journal_id,
        cast(abs(journals.revenue_net_eur) as decimal(18, 2)) as amount_at_stake,
        'EUR' as currency_code,
        cast(abs(journals.revenue_net_eur) as decimal(18, 2)) as amount_at_stake_eur,
        journals.journal_date as issue_date,
        false as blocks_draft,
        'accountant' as owner_role,
        'Manual journal ' || journals.journal_number || ' of ' || strftime(journals.journal_date, '%Y-%m-%d')
            || ' books ' || cast(journals.revenue_net_eur as varchar)
            || ' EUR of revenue directly, outside any invoice.' as explanation
    from journals
    where journals.source_type = 'MANJOURNAL'
        and journals.revenue_line_count > 0

)

select * from final
