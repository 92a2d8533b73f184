{#- Every finding of every check (one `chk_<check_name>` model per check of DESIGN.md
    §6) in one shape, with its stable `exception_id` (md5 of the check name and the
    finding's keys) and severity: high when the amount at stake is ≥ 5,000 EUR or the
    finding blocks a draft, medium ≥ 500 EUR, else low. -#}

{%- set checks = {
    'handover': ['won_deal_without_project', 'project_without_won_deal', 'project_budget_mismatch',
                 'billing_model_mismatch', 'customer_mismatch', 'currency_mismatch'],
    'work': ['unbilled_approved_work', 'unapproved_work_invoiced', 'unapproved_work_aging',
             'rate_mismatch', 'over_budget_without_change_request', 'work_outside_project_period',
             'double_billed_work', 'milestone_due_not_invoiced', 'schedule_total_mismatch'],
    'ledger': ['invoice_not_posted', 'invoice_journal_mismatch', 'manual_revenue_posting',
               'pushed_draft_missing_in_accounting', 'credit_note_without_reference',
               'payment_mismatch', 'overdue_receivable'],
    'master_data': ['customer_unmatched', 'missing_vat_id_for_reverse_charge'],
} %}

with

{% for group, names in checks.items() %}
{%- for name in names %}
{{ name }} as (

    select '{{ group }}' as check_group, * from {{ ref('chk_' ~ name) }}

),

{% endfor %}
{%- endfor %}
unioned as (

{%- for group, names in checks.items() %}
{%- for name in names %}
    select * from {{ name }}
    {% if not loop.last or group != 'master_data' %}union all by name{% endif %}
{%- endfor %}
{%- endfor %}

),

final as (

    select
        md5(unioned.check_name || '|' || cast(unioned.finding_keys as varchar)) as exception_id,
        cast(unioned.check_name as varchar) as check_name,
        cast(unioned.check_group as varchar) as check_group,
        {{ severity('unioned.amount_at_stake_eur', 'unioned.blocks_draft') }} as severity,
        cast(unioned.finding_keys as varchar) as finding_keys,
        cast(unioned.hubspot_company_id as varchar) as hubspot_company_id,
        cast(unioned.hubspot_deal_id as varchar) as hubspot_deal_id,
        cast(unioned.hubspot_line_item_id as varchar) as hubspot_line_item_id,
        cast(unioned.harvest_client_id as bigint) as harvest_client_id,
        cast(unioned.harvest_project_id as bigint) as harvest_project_id,
        cast(unioned.harvest_time_entry_id as bigint) as harvest_time_entry_id,
        cast(unioned.harvest_expense_id as bigint) as harvest_expense_id,
        cast(unioned.xero_contact_id as varchar) as xero_contact_id,
        cast(unioned.xero_invoice_id as varchar) as xero_invoice_id,
        cast(unioned.xero_invoice_ids as varchar) as xero_invoice_ids,
        cast(unioned.xero_payment_id as varchar) as xero_payment_id,
        cast(unioned.xero_credit_note_id as varchar) as xero_credit_note_id,
        cast(unioned.xero_journal_id as varchar) as xero_journal_id,
        cast(unioned.xero_journal_ids as varchar) as xero_journal_ids,
        cast(unioned.draft_key as varchar) as draft_key,
        cast(unioned.amount_at_stake as decimal(18, 2)) as amount_at_stake,
        cast(unioned.currency_code as varchar) as currency_code,
        cast(unioned.amount_at_stake_eur as decimal(18, 2)) as amount_at_stake_eur,
        cast(unioned.dunning_level as integer) as dunning_level,
        coalesce(cast(unioned.blocks_draft as boolean), false) as blocks_draft,
        cast(unioned.issue_date as date) as issue_date,
        cast(unioned.owner_role as varchar) as owner_role,
        cast(unioned.explanation as varchar) as explanation
    from unioned

)

select * from final
