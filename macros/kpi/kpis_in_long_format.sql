{#- SQL (a query): every KPI per month and scope in long format (month, hubspot_company_id,
    kpi, value), rounded as docs/answer-key.md says (days 0.1, rates 4 decimals, EUR
    cents), read from the KPI models' rows. `whole_company`: the rows of the whole company
    ('*'), where the stock KPIs (DSO count-back, unbilled WIP and revenue leakage) are
    present every month of the spine, 0 when there is nothing; else the customers' rows,
    each KPI only where its denominator is not empty. `narrow`: the months from this
    model's first reached month (a narrowed rebuild, macros/incremental/reach.sql). The two
    KPI marts each call it, so neither waits for the other nor for a long-format table of
    every row. -#}
{% macro kpis_in_long_format(whole_company, narrow=false) %}

{%- set scope = "hubspot_company_id " ~ ("=" if whole_company else "!=") ~ " '*'" %}
{%- set reached_months %}
    {%- if narrow %} and month >= {{ reached_first_month() }}{% endif %}
{%- endset %}

with

months as (
    select * from {{ ref('int_kpi_months_spined') }}
    where true{{ reached_months }}
),

{#- each KPI model's CTE and its KPI columns, unpivoted in this order #}
{%- set kpi_models = [
    ('dso', 'int_kpi_dso_computed', ['dso_countback', 'dso_simple']),
    ('invoice_rates', 'int_kpi_invoice_rates_computed', ['first_correction_rate', 'automation_share', 'dunning_rate']),
    ('handover', 'int_kpi_handover_computed', ['handover_automation']),
    ('invoiced_work', 'int_kpi_invoiced_work_computed', [
        'time_to_invoice_median_days', 'time_to_invoice_p90_days', 'realisation_rate']),
    ('work', 'int_kpi_work_computed', [
        'unbilled_wip_eur', 'unbilled_wip_approved_eur', 'unbilled_wip_0_30_eur',
        'unbilled_wip_31_60_eur', 'unbilled_wip_61_90_eur', 'unbilled_wip_91_plus_eur',
        'revenue_leakage_eur']),
] %}
{%- for cte, model, columns in kpi_models %}

{{ cte }} as (
    select * from {{ ref(model) }}
    where {{ scope }}{{ reached_months }}
),
{%- endfor %}

long_values as (
    {%- for cte, model, columns in kpi_models %}
    unpivot (
        select {{ cte }}.month, {{ cte }}.hubspot_company_id,
            {%- for column in columns %}
            cast({{ cte }}.{{ column }} as decimal(18, 4)) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ cte }}
    ) on {{ columns | join(', ') }} into name kpi value value
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
),

{%- if whole_company %}

stock_defaults as (
    -- the stock KPIs exist every month for the whole company, 0 when nothing is there
    select
        months.month,
        '*' as hubspot_company_id,
        stock.kpi,
        cast(0 as decimal(18, 4)) as value
    from months
    cross join (
        values
            ('dso_countback'), ('unbilled_wip_eur'), ('unbilled_wip_approved_eur'),
            ('unbilled_wip_0_30_eur'), ('unbilled_wip_31_60_eur'), ('unbilled_wip_61_90_eur'),
            ('unbilled_wip_91_plus_eur'), ('revenue_leakage_eur')
    ) as stock(kpi)
),

combined as (
    select
        coalesce(long_values.month, stock_defaults.month) as month,
        coalesce(long_values.hubspot_company_id, stock_defaults.hubspot_company_id) as hubspot_company_id,
        coalesce(long_values.kpi, stock_defaults.kpi) as kpi,
        coalesce(long_values.value, stock_defaults.value) as value
    from long_values
    full outer join stock_defaults
        on long_values.month = stock_defaults.month
        and long_values.hubspot_company_id = stock_defaults.hubspot_company_id
        and long_values.kpi = stock_defaults.kpi
),
{%- else %}

combined as (
    select * from long_values
),
{%- endif %}

final as (
    select
        combined.month,
        combined.hubspot_company_id,
        combined.kpi,
        cast(combined.value as decimal(18, 4)) as value
    from combined
    inner join months
        on combined.month = months.month
    where combined.value is not null
)

select * from final

{%- endmacro %}
