{#- Every KPI of DESIGN.md §8 per month × customer, long format (month YYYY-MM, kpi,
    value). The customer is the HubSpot company: of the invoice's Xero contact for invoice
    KPIs, of the project's closed-won deal for work KPIs, of the deal for handover;
    records that link to no company are reported under '(unlinked)'. A KPI whose
    denominator is empty for the customer that month has no row. Read by the dashboard.
    Incremental (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    recomputes the months from the first one a changed entry reaches, the receivables
    recomputed or the invoice KPIs rebuilt differently (every month when the month spine
    changed). -#}

{%- set narrow = rebuild_is_narrowed() %}

-- the pre_hook reads the receivables' note of the months they recomputed
-- depends_on: {{ ref('int_receivables_month_ended') }}

with

kpis as (
    {{ kpis_in_long_format(whole_company=false, narrow=narrow) }}
),

final as (
    select
        kpis.month,
        kpis.hubspot_company_id,
        kpis.kpi,
        kpis.value
    from kpis
)

select * from final
