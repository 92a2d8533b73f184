{#- Every finding ever seen, one row per exception_id, carried across builds: a finding
    found again stays open (its first_seen_at kept); one no longer found is marked
    resolved with resolved_at = this build's as_of_date; one that comes back is open
    again. Times are the builds' as_of dates (midnight UTC), so replays are reproducible. -#}

{{
    config(
        materialized='incremental',
        unique_key='exception_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        full_refresh=false,
    )
}}

with

current_findings as (

    select * from {{ ref('int_exceptions_unioned') }}

),

{% if is_incremental() %}
previous_findings as (

    select * from {{ this }}

),
{% endif %}

seen as (

    select
        current_findings.*,
        {% if is_incremental() -%}
        coalesce(previous_findings.first_seen_at, cast({{ as_of_date() }} as timestamp))
        {%- else -%}
        cast({{ as_of_date() }} as timestamp)
        {%- endif %} as first_seen_at,
        cast({{ as_of_date() }} as timestamp) as last_seen_at,
        'open' as status,
        cast(null as timestamp) as resolved_at
    from current_findings
    {% if is_incremental() -%}
    left join previous_findings
        on current_findings.exception_id = previous_findings.exception_id
    {%- endif %}

),

{% if is_incremental() %}
resolved as (

    select
        previous_findings.* replace (
            'resolved' as status,
            cast({{ as_of_date() }} as timestamp) as resolved_at
        )
    from previous_findings
    where previous_findings.status = 'open'
        and previous_findings.exception_id not in (
            select current_findings.exception_id from current_findings
        )

),
{% endif %}

final as (

    select
        seen.exception_id,
        seen.check_name,
        seen.check_group,
        seen.severity,
        seen.status,
        seen.finding_keys,
        seen.hubspot_company_id,
        seen.hubspot_deal_id,
        seen.hubspot_line_item_id,
        seen.harvest_client_id,
        seen.harvest_project_id,
        seen.harvest_time_entry_id,
        seen.harvest_expense_id,
        seen.xero_contact_id,
        seen.xero_invoice_id,
        seen.xero_invoice_ids,
        seen.xero_payment_id,
        seen.xero_credit_note_id,
        seen.xero_journal_id,
        seen.xero_journal_ids,
        seen.draft_key,
        seen.amount_at_stake,
        seen.currency_code,
        seen.amount_at_stake_eur,
        seen.dunning_level,
        seen.blocks_draft,
        seen.issue_date,
        seen.first_seen_at,
        seen.last_seen_at,
        seen.resolved_at,
        seen.owner_role,
        seen.explanation
    from seen
    {% if is_incremental() %}
    union all by name
    select * from resolved
    {% endif %}

)

select * from final
