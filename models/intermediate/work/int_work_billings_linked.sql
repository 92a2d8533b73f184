{#- The "billed on" rule of DESIGN.md §4 ("Work → invoice"), written once: one row per
    source record × existing Xero invoice that bills it. A Harvest time entry or expense
    is billed on the invoice whose number Harvest stored as its `invoice.number`; any
    record (milestones only this way) is billed on the invoice of every succeeded
    push-ledger record naming it among a line's source ids — the ledger's invoice id, else
    the invoice whose Reference is the ledger's reference (else its draft key: the push
    job writes Reference = draft key). "Existing" = ACCREC in DRAFT, SUBMITTED, AUTHORISED
    or PAID: voided and deleted invoices bill nothing. Records the ledger names that no
    longer exist in Harvest keep their rows (corrections credit them). `is_posted` =
    AUTHORISED or PAID (the "invoice" of the KPIs). Per-record summaries (`is_billed` at
    as_of_date, first billed date): int_work_items_billed.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    relinks only the work records it reaches, which its first pre_hook notes for every
    per-entry model (`note_reached_work_items`). -#}

{%- set narrow = rebuild_is_narrowed() %}

-- built first: a rebuild after Xero or ledger changes reads what changed in it
-- depends_on: {{ ref('int_billing_inputs_fingerprinted') }}

with

invoices as (

    select * from {{ ref('stg_xero__invoices') }}

),

time_entries as (

    select * from {{ ref('stg_harvest__time_entries') }}

),

expenses as (

    select * from {{ ref('stg_harvest__expenses') }}

),

ledger as (

    select * from {{ ref('stg_taktgeber__push_ledger') }}

),

ledger_lines as (

    select * from {{ ref('stg_taktgeber__push_ledger_lines') }}

),

live_invoices as (

    select
        invoices.xero_invoice_id,
        invoices.invoice_number,
        invoices.reference,
        invoices.invoice_date,
        invoices.invoice_status in ('AUTHORISED', 'PAID') as is_posted
    from invoices
    where invoices.invoice_type = 'ACCREC'
        and invoices.invoice_status in ('DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID')

),

harvest_records as (

    select
        'time' as work_item_kind,
        cast(time_entries.harvest_time_entry_id as varchar) as source_id,
        time_entries.harvest_invoice_number
    from time_entries
    where time_entries.harvest_invoice_number is not null
    {%- if narrow %}
        and time_entries.harvest_time_entry_id in {{ reached_ids('time') }}
    {%- endif %}
    union all
    select
        'expense' as work_item_kind,
        cast(expenses.harvest_expense_id as varchar) as source_id,
        expenses.harvest_invoice_number
    from expenses
    where expenses.harvest_invoice_number is not null
    {%- if narrow %}
        and expenses.harvest_expense_id in {{ reached_ids('expense') }}
    {%- endif %}

),

by_harvest as (

    select
        harvest_records.work_item_kind,
        harvest_records.source_id,
        live_invoices.xero_invoice_id,
        'harvest' as link_method
    from harvest_records
    inner join live_invoices
        on harvest_records.harvest_invoice_number = live_invoices.invoice_number

),

ledger_invoices as (

    select
        ledger.draft_key,
        coalesce(by_id.xero_invoice_id, by_reference.xero_invoice_id) as xero_invoice_id
    from ledger
    left join live_invoices as by_id
        on ledger.xero_invoice_id = by_id.xero_invoice_id
    left join live_invoices as by_reference
        on coalesce(ledger.reference, ledger.draft_key) = by_reference.reference
    where ledger.push_status = 'succeeded'

),

ledger_sources as (

    select
        ledger_lines.draft_key,
        'time' as work_item_kind,
        cast(unnest(ledger_lines.harvest_time_entry_ids) as varchar) as source_id
    from ledger_lines
    union all
    select
        ledger_lines.draft_key,
        'expense' as work_item_kind,
        cast(unnest(ledger_lines.harvest_expense_ids) as varchar) as source_id
    from ledger_lines
    union all
    select
        ledger_lines.draft_key,
        'milestone' as work_item_kind,
        cast(unnest(ledger_lines.hubspot_line_item_ids) as varchar) as source_id
    from ledger_lines

),

by_ledger as (

    select
        ledger_sources.work_item_kind,
        ledger_sources.source_id,
        ledger_invoices.xero_invoice_id,
        'ledger' as link_method
    from ledger_sources
    inner join ledger_invoices
        on ledger_sources.draft_key = ledger_invoices.draft_key
    where ledger_invoices.xero_invoice_id is not null
    {%- if narrow %}
        and (ledger_sources.work_item_kind, ledger_sources.source_id) in (
            select reached.work_item_kind, reached.source_id from taktgeber_meta.reached__{{ this.identifier }} as reached
        )
    {%- endif %}

),

linked as (

    -- a record linked both ways, or twice one way, is one row: the `group by all` below
    -- (one aggregate, where a `union` first was a second one: 14.6 s → 10.1 s at 10m)
    select * from by_harvest
    union all
    select * from by_ledger

),

final as (

    select
        linked.work_item_kind || ':' || linked.source_id || ':' || linked.xero_invoice_id as billing_id,
        linked.work_item_kind || ':' || linked.source_id as work_item_id,
        linked.work_item_kind,
        linked.source_id,
        case
            when linked.work_item_kind = 'time' then try_cast(linked.source_id as bigint)
        end as harvest_time_entry_id,
        linked.xero_invoice_id,
        live_invoices.invoice_number,
        live_invoices.invoice_date,
        live_invoices.is_posted,
        bool_or(linked.link_method = 'harvest') as is_harvest_invoice,
        bool_or(linked.link_method = 'ledger') as is_ledger_invoice
    from linked
    inner join live_invoices
        on linked.xero_invoice_id = live_invoices.xero_invoice_id
    group by all

)

select * from final
