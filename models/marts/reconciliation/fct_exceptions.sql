{#- The exceptions queue (DESIGN.md §6): one row per finding of every reconciliation
    check, open or resolved, with the records involved in each system, money at stake,
    age, owner and a one-sentence explanation. Read by the dashboard and the push job. -#}

with

history as (

    select * from {{ ref('fct_exception_history') }}

),

final as (

    select
        history.exception_id,
        history.check_name,
        history.check_group,
        history.severity,
        history.status,
        history.finding_keys,
        history.hubspot_company_id,
        history.hubspot_deal_id,
        history.hubspot_line_item_id,
        history.harvest_client_id,
        history.harvest_project_id,
        history.harvest_time_entry_id,
        history.harvest_expense_id,
        history.xero_contact_id,
        history.xero_invoice_id,
        history.xero_invoice_ids,
        history.xero_payment_id,
        history.xero_credit_note_id,
        history.xero_journal_id,
        history.xero_journal_ids,
        history.draft_key,
        history.amount_at_stake,
        history.currency_code,
        history.amount_at_stake_eur,
        history.dunning_level,
        history.blocks_draft,
        history.issue_date,
        history.first_seen_at,
        history.last_seen_at,
        history.resolved_at,
        cast(
            coalesce(cast(history.resolved_at as date), {{ as_of_date() }})
            - least(history.issue_date, cast(history.first_seen_at as date))
            as integer
        ) as age_days,
        history.owner_role,
        history.explanation,
        {{ as_of_date() }} as as_of_date
    from history

)

select * from final
