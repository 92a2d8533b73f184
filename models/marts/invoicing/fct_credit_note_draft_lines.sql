{#- The lines of each credit-note draft: one per credited record (made non-billable or
    unapproved) with its source id, and one for hours cut (the rest of the difference). -#}

with

corrections as (
    select * from {{ ref('int_invoiced_work_corrected') }}
),

service_catalogue as (
    select * from {{ ref('service_catalogue') }}
),

account_roles as (
    select * from {{ ref('account_roles') }}
),

services as (
    select
        service_catalogue.service_type,
        min(cast(service_catalogue.revenue_account_code as varchar)) as revenue_account_code
    from service_catalogue
    group by service_catalogue.service_type
),

keyed as (
    select
        corrections.*,
        {{ draft_key("list_concat([corrections.invoice_number], list(corrections.source_id) filter (where corrections.source_id is not null) over (partition by corrections.xero_invoice_id))") }}
            as draft_key
    from corrections
),

issued_credit_notes as (
    -- a correction already created in Xero (its Reference is the draft key) is not
    -- drafted again, allocated or not (a PAID invoice takes no allocation)
    select distinct credit_notes.reference
    from {{ ref('stg_xero__credit_notes') }} as credit_notes
    where credit_notes.reference is not null
        and credit_notes.credit_note_status in ('DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID')
),

final as (
    select
        keyed.draft_key || '#' || cast(row_number() over (partition by keyed.draft_key order by keyed.source_id nulls last) as varchar) as draft_line_id,
        keyed.draft_key,
        cast(row_number() over (partition by keyed.draft_key order by keyed.source_id nulls last) as integer) as line_no,
        keyed.kind,
        case keyed.correction_reason
            when 'hours_reduced' then concat('Korrektur Stunden / hours corrected, ', keyed.invoice_number)
            when 'made_non_billable' then concat('Nicht abrechenbar / not billable, ', keyed.invoice_number)
            else concat('Nicht freigegeben / not approved, ', keyed.invoice_number)
        end as description,
        keyed.correction_reason,
        keyed.quantity,
        keyed.unit_amount,
        keyed.line_amount,
        {{ line_account_code('keyed.kind', 'services.revenue_account_code') }} as account_code,
        keyed.harvest_project_id,
        keyed.service_type,
        case when keyed.harvest_time_entry_id is null then cast([] as bigint[]) else [keyed.harvest_time_entry_id] end as harvest_time_entry_ids,
        case when keyed.harvest_expense_id is null then cast([] as bigint[]) else [keyed.harvest_expense_id] end as harvest_expense_ids,
        case when keyed.hubspot_line_item_id is null then cast([] as varchar[]) else [keyed.hubspot_line_item_id] end as hubspot_line_item_ids
    from keyed
    left join services
        on keyed.service_type = services.service_type
    where keyed.draft_key not in (select issued_credit_notes.reference from issued_credit_notes)
)

select * from final
