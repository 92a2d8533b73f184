{#- Every KPI of DESIGN.md §8 per month for the whole company, long format (month
    YYYY-MM, kpi, value); KPI names as in docs/answer-key.md. A KPI whose denominator is
    empty in a month (no invoices dated, none due, no won deals, nothing invoiced) has no
    row that month. Read by the dashboard. -#}

with

kpis as (
    select * from {{ ref('int_kpis_unpivoted') }}
),

final as (
    select
        kpis.month,
        kpis.kpi,
        kpis.value
    from kpis
    where kpis.hubspot_company_id = '*'
)

select * from final
