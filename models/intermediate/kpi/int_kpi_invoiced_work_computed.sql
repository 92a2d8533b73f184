{#- The work KPIs of invoiced work per month and customer ('*' = the whole company; the
    customer is the company of the project's closed-won deal): a record counts only in the
    month of its first posted invoice.
    - time_to_invoice_median_days / _p90_days: for every time entry and expense whose
      Harvest invoice (by invoice number, AUTHORISED or PAID) is dated in the month,
      invoice date − spent_date; for every milestone billed through the push ledger, on
      the first such invoice (by date, then id) dated in the month, invoice date − due
      date. Median = continuous quantile 0.5 (mean of the two middle values), p90 =
      continuous quantile 0.9 (linear interpolation), read off a count per delay (whole
      days); 0.1 day, half-up.
    - realisation_rate: for billable time entries with a contracted rate whose Harvest
      invoice is dated in the month: Σ billed value ÷ Σ hours × contracted rate (EUR at
      spent_date), 4 decimals.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a rebuild after
    time entries, invoices or the push ledger changed recomputes only the months a reached
    record was or is first invoiced in (a voided invoice: its month; a day's new time
    entries: none). The stock KPIs of work (WIP, leakage) are in int_kpi_work_computed,
    which recomputes every month from the earliest date a reached record had or has. -#}

{%- set narrow = rebuild_is_narrowed() %}

with

months as (
    select * from {{ ref('int_kpi_months_spined') }}
    {%- if narrow %}
    -- a narrowed rebuild: the months a reached record was or is first invoiced in
    -- (macros/incremental/reach.sql)
    where {{ in_reached_invoice_months() }}
    {%- endif %}
),

work_eur as not materialized (
    -- time entries and expenses, valued in EUR with their first posted Harvest invoice
    -- date. Not materialized: each reader scans the table with its own filters and columns
    select * from {{ ref('int_work_items_valued') }}
),

milestones as (
    -- payment-schedule items of closed-won fixed-price deals, with their first posted
    -- invoice (by date)
    select
        coalesce(work_items.hubspot_company_id, '(unlinked)') as customer_id,
        coalesce(work_items.work_date, work_items.billing_date) as due_date,
        work_items.first_posted_date
    from {{ ref('int_work_items_billed') }} as work_items
    where work_items.work_item_kind = 'milestone'
        and work_items.first_posted_date is not null
),

invoicing_delays as (
    select
        months.month,
        work_eur.customer_id,
        cast(work_eur.harvest_invoice_date - work_eur.spent_date as decimal(18, 4)) as delay_days
    from work_eur
    inner join months
        on work_eur.harvest_invoice_date between months.month_start and months.month_end
    union all
    select
        months.month,
        milestones.customer_id,
        cast(milestones.first_posted_date - milestones.due_date as decimal(18, 4))
    from milestones
    inner join months
        on milestones.first_posted_date between months.month_start and months.month_end
),

delay_counts as (
    -- delays are whole days: a count per delay is all a quantile needs (one aggregate
    -- holding every delay of a month spilled tens of GB to disk at 10m)
    select
        invoicing_delays.month,
        invoicing_delays.customer_id as hubspot_company_id,
        invoicing_delays.delay_days,
        count(*) as delays
    from invoicing_delays
    group by all
),

delay_histograms as (
    -- per customer, and for the whole company ('*'): how many delays up to each value
    select
        scoped.*,
        sum(scoped.delays) over (
            partition by scoped.month, scoped.hubspot_company_id order by scoped.delay_days
        ) as delays_through,
        sum(scoped.delays) over (partition by scoped.month, scoped.hubspot_company_id) as delays_total
    from (
        select * from delay_counts
        union all
        select delay_counts.month, '*', delay_counts.delay_days, sum(delay_counts.delays)
        from delay_counts
        group by delay_counts.month, delay_counts.delay_days
    ) as scoped
),

delay_quantile_bounds as (
    -- continuous quantile q of n sorted values: position h = (n − 1) × q (from 0); the
    -- values at floor(h) and ceil(h), the first whose running count passes the position
    select
        delay_histograms.month,
        delay_histograms.hubspot_company_id,
        any_value(delay_histograms.delays_total) as delays_total,
        {%- for name, q in [('median', '0.5'), ('p90', '0.9')] %}
        min(delay_histograms.delay_days) filter (
            where delay_histograms.delays_through > floor((delay_histograms.delays_total - 1) * {{ q }})
        ) as {{ name }}_low,
        min(delay_histograms.delay_days) filter (
            where delay_histograms.delays_through > ceil((delay_histograms.delays_total - 1) * {{ q }})
        ) as {{ name }}_high{{ ',' if not loop.last }}
        {%- endfor %}
    from delay_histograms
    group by delay_histograms.month, delay_histograms.hubspot_company_id
),

time_to_invoice as (
    -- interpolated between the two: low + (h − floor(h)) × (high − low)
    select
        delay_quantile_bounds.month,
        delay_quantile_bounds.hubspot_company_id,
        {%- for name, q in [('median', '0.5'), ('p90', '0.9')] %}
        {{ kpi_round(
            name ~ '_low + ((delays_total - 1) * ' ~ q ~ ' - floor((delays_total - 1) * ' ~ q ~ ')) * ('
            ~ name ~ '_high - ' ~ name ~ '_low)', 1) }} as time_to_invoice_{{ name }}_days{{ ',' if not loop.last }}
        {%- endfor %}
    from delay_quantile_bounds
),

realised as (
    select
        months.month,
        work_eur.customer_id,
        work_eur.value_eur as billed_eur,
        cast(work_eur.hours * work_eur.contracted_rate as double) / cast(work_eur.units_per_eur as double) as contracted_eur
    from work_eur
    inner join months
        on work_eur.harvest_invoice_date between months.month_start and months.month_end
    where work_eur.work_item_kind = 'time'
        and work_eur.is_billable
        and work_eur.contracted_rate is not null
),

realisation as (
    select
        realised.month,
        coalesce(realised.customer_id, '*') as hubspot_company_id,
        {{ kpi_ratio('sum(realised.billed_eur)', 'sum(realised.contracted_eur)') }} as realisation_rate
    from realised
    group by grouping sets ((realised.month, realised.customer_id), (realised.month))
),

final as (
    select
        coalesce(time_to_invoice.month, realisation.month) as month,
        coalesce(time_to_invoice.hubspot_company_id, realisation.hubspot_company_id) as hubspot_company_id,
        time_to_invoice.time_to_invoice_median_days,
        time_to_invoice.time_to_invoice_p90_days,
        realisation.realisation_rate
    from time_to_invoice
    full outer join realisation
        on time_to_invoice.month = realisation.month
        and time_to_invoice.hubspot_company_id = realisation.hubspot_company_id
)

select * from final
