{#- Every KPI of DESIGN.md §8 per month for the whole company, long format (month
    YYYY-MM, kpi, value); KPI names as in docs/answer-key.md. A KPI whose denominator is
    empty in a month (no invoices dated, none due, no won deals, nothing invoiced) has no
    row that month; the stock KPIs (DSO count-back, unbilled WIP, revenue leakage) have one
    every month, 0 when there is nothing. Read by the dashboard. -#}

with

kpis as (
    {{ kpis_in_long_format(whole_company=true) }}
),

final as (
    select
        kpis.month,
        kpis.kpi,
        kpis.value
    from kpis
)

select * from final
