{#- Every KPI of DESIGN.md §8 per month × customer, long format (month YYYY-MM, kpi,
    value). The customer is the HubSpot company: of the invoice's Xero contact for invoice
    KPIs, of the project's closed-won deal for work KPIs, of the deal for handover;
    records that link to no company are reported under '(unlinked)'. Read by the
    dashboard.
    Incremental (dbt_project.yml, macros/incremental/reach.sql): a rebuild after only time
    entries changed copies the months the KPIs in long format recomputed. -#}

{%- set narrow = rebuild_is_narrowed() %}

-- depends_on: {{ ref('int_kpi_months_spined') }}

with

kpis as (
    select * from {{ ref('int_kpis_unpivoted') }}
    {%- if narrow %}
    where month >= {{ reached_first_month() }}
    {%- endif %}
),

final as (
    select
        kpis.month,
        kpis.hubspot_company_id,
        kpis.kpi,
        kpis.value
    from kpis
    where kpis.hubspot_company_id != '*'
)

select * from final
