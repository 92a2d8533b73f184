{#- One row per billable Harvest time entry with its contracted rate (DESIGN.md §6
    rate_mismatch): the rate line item of the project's deal for the entry's service type
    (lowest line item id on a tie; only a closed-won deal is a contract), else the rate card row for that service type, the
    project client's currency and the spent date (latest `valid_from` on an overlap).
    `has_rate_mismatch` when a contracted rate exists and differs from the billable rate.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    rechecks only the time entries it reaches. -#}

{%- set narrow = rebuild_is_narrowed() %}

with

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

time_entries as (

    select * from {{ ref('stg_harvest__time_entries') }}

),

line_items as (

    select * from {{ ref('int_line_items_classified') }}

),

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

rate_card as (

    select * from {{ ref('rate_card') }}

),

entries as (

    select
        work_items.harvest_time_entry_id,
        work_items.harvest_project_id,
        work_items.hubspot_deal_id,
        work_items.hubspot_company_id,
        work_items.service_type,
        work_items.work_date as spent_date,
        work_items.quantity as hours,
        work_items.currency_code,
        work_items.is_approved,
        work_items.is_billed,
        time_entries.billable_rate
    from work_items
    inner join time_entries
        on work_items.harvest_time_entry_id = time_entries.harvest_time_entry_id
    where work_items.work_item_kind = 'time'
        and work_items.is_billable
    {%- if narrow %}
        and work_items.harvest_time_entry_id in {{ reached_ids('time') }}
    {%- endif %}

),

deal_rates as (

    select
        entries.harvest_time_entry_id,
        line_items.price as contracted_rate
    from entries
    inner join deals
        on entries.hubspot_deal_id = deals.hubspot_deal_id
    inner join line_items
        on deals.hubspot_deal_id = line_items.hubspot_deal_id
        and entries.service_type = line_items.service_type
    where line_items.line_item_role = 'rate'
        and deals.is_won
    qualify row_number() over (
        partition by entries.harvest_time_entry_id order by line_items.hubspot_line_item_id
    ) = 1

),

card_rates as (

    select
        entries.harvest_time_entry_id,
        cast(rate_card.hourly_rate as decimal(18, 4)) as contracted_rate
    from entries
    inner join rate_card
        on entries.service_type = rate_card.service_type
        and entries.currency_code = upper(rate_card.currency_code)
        and entries.spent_date >= cast(rate_card.valid_from as date)
        and (rate_card.valid_to is null or entries.spent_date <= cast(rate_card.valid_to as date))
    qualify row_number() over (
        partition by entries.harvest_time_entry_id order by cast(rate_card.valid_from as date) desc
    ) = 1

),

final as (

    select
        entries.harvest_time_entry_id,
        entries.harvest_project_id,
        entries.hubspot_deal_id,
        entries.hubspot_company_id,
        entries.service_type,
        entries.spent_date,
        entries.hours,
        entries.currency_code,
        entries.is_approved,
        entries.is_billed,
        entries.billable_rate,
        cast(coalesce(deal_rates.contracted_rate, card_rates.contracted_rate) as decimal(18, 4))
            as contracted_rate,
        case
            when deal_rates.contracted_rate is not null then 'deal'
            when card_rates.contracted_rate is not null then 'rate_card'
            else 'none'
        end as contracted_rate_source,
        coalesce(deal_rates.contracted_rate, card_rates.contracted_rate) is not null
            and coalesce(deal_rates.contracted_rate, card_rates.contracted_rate)
                <> coalesce(entries.billable_rate, 0) as has_rate_mismatch,
        cast(abs(coalesce(deal_rates.contracted_rate, card_rates.contracted_rate) - coalesce(entries.billable_rate, 0))
            * entries.hours as decimal(18, 4)) as rate_gap_value
    from entries
    left join deal_rates
        on entries.harvest_time_entry_id = deal_rates.harvest_time_entry_id
    left join card_rates
        on entries.harvest_time_entry_id = card_rates.harvest_time_entry_id

)

select * from final
