with

source as (

    select * from {{ source('raw_taktgeber', 'push_ledger') }}

),

renamed as (

    select
        cast(draft_key as varchar) as draft_key,
        nullif(trim(cast(reference as varchar)), '') as reference,
        cast(idempotency_key as varchar) as idempotency_key,
        lower(cast(status as varchar)) as push_status,
        cast(attempts as integer) as attempts,
        cast(pushed_at as timestamp) as pushed_at,
        cast(xero_invoice_id as varchar) as xero_invoice_id,
        cast(xero_invoice_number as varchar) as xero_invoice_number,
        cast(xero_contact_id as varchar) as xero_contact_id,
        cast(hubspot_company_id as varchar) as hubspot_company_id,
        cast(harvest_project_id as bigint) as harvest_project_id,
        upper(cast(currency as varchar)) as currency_code,
        cast(billing_month as varchar) as billing_month,
        cast(tax_category as varchar) as tax_category,
        {{ money('subtotal') }} as sub_total,
        {{ money('total_tax') }} as total_tax,
        {{ money('total') }} as total,
        cast(loaded_at as timestamp) as loaded_at

    from source

),

final as (

    select * from renamed

)

select * from final
