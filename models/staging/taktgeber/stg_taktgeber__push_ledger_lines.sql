with

source as (

    select * from {{ source('raw_taktgeber', 'push_ledger_lines') }}

),

renamed as (

    select
        cast(draft_key as varchar) || '#' || cast(line_no as varchar) as push_ledger_line_id,
        cast(draft_key as varchar) as draft_key,
        cast(line_no as integer) as line_no,
        lower(cast(kind as varchar)) as line_kind,
        cast(description as varchar) as description,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(unit_amount as decimal(18, 4)) as unit_amount,
        {{ money('line_amount') }} as line_amount,
        cast(account_code as varchar) as account_code,
        cast(harvest_project_id as bigint) as harvest_project_id,
        cast(service_type as varchar) as service_type,
        cast(harvest_time_entry_ids as bigint[]) as harvest_time_entry_ids,
        cast(harvest_expense_ids as bigint[]) as harvest_expense_ids,
        cast(hubspot_line_item_ids as varchar[]) as hubspot_line_item_ids

    from source

),

final as (

    select * from renamed

)

select * from final
