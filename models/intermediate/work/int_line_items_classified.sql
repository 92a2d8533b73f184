{#- One row per HubSpot line item with its deal and its role (DESIGN.md §4): `rate` (no
    billing date: the hourly rate of a service type) or `milestone` (payment-schedule item).
    A milestone is due on `billing_date`, or on the later of it and `accepted_date` when
    acceptance is required; an unaccepted one is never due (`due_date` null). -#}

with

line_items as (

    select * from {{ ref('stg_hubspot__line_items') }}

),

deal_line_items as (

    select * from {{ ref('stg_hubspot__deal_line_item_associations') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

first_deal as (

    select
        deal_line_items.hubspot_line_item_id,
        deals.hubspot_deal_id
    from deal_line_items
    inner join deals
        on deal_line_items.deal_dlt_id = deals.dlt_id
    qualify row_number() over (
        partition by deal_line_items.hubspot_line_item_id
        order by deals.hubspot_deal_id
    ) = 1

),

final as (

    select
        line_items.hubspot_line_item_id,
        first_deal.hubspot_deal_id,
        line_items.line_item_name,
        case when line_items.billing_date is null then 'rate' else 'milestone' end
            as line_item_role,
        line_items.service_type,
        line_items.quantity,
        line_items.price,
        line_items.amount,
        line_items.billing_date,
        line_items.requires_acceptance,
        line_items.accepted_date,
        case
            when line_items.billing_date is null then null
            when not line_items.requires_acceptance then line_items.billing_date
            when line_items.accepted_date is null then null
            else greatest(line_items.billing_date, line_items.accepted_date)
        end as due_date
    from line_items
    left join first_deal
        on line_items.hubspot_line_item_id = first_deal.hubspot_line_item_id

)

select * from final
