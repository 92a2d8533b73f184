{% macro kpi_round(value, places) -%}
    {#- KPI rounding (docs/answer-key.md): days to 0.1, rates to 4 decimals, EUR to the cent,
        half-up. Divisions on DuckDB return DOUBLE, so the value is first fixed to 10
        decimals (which removes binary noise such as 12.3499999999) and then rounded. -#}
    cast(round(cast({{ value }} as decimal(38, 10)), {{ places }}) as decimal(18, {{ places }}))
{%- endmacro %}

{% macro kpi_ratio(numerator, denominator, places=4) -%}
    {#- numerator ÷ denominator rounded half-up; null when the denominator is 0 or null. -#}
    case
        when coalesce({{ denominator }}, 0) = 0 then null
        else {{ kpi_round('cast(' ~ numerator ~ ' as double) / cast(' ~ denominator ~ ' as double)', places) }}
    end
{%- endmacro %}

{% macro kpi_exact(value) -%}
    {#- A EUR amount (DOUBLE, from a division) fixed to 10 decimals, as KPI sums take it:
        sums of such decimals are exact, whatever order they are taken in, so a total is
        the same whether summed from its records or from partial sums (the whole company's
        WIP from its customers'). -#}
    cast({{ value }} as decimal(38, 10))
{%- endmacro %}

{% macro kpi_eur_units(value) -%}
    {#- A EUR amount (DOUBLE) in whole 1e-8 EUR, as BIGINT: sums and differences of such
        units are exact, so comparing them does not depend on the order a DOUBLE sum was
        taken in (up to ±92 billion EUR; beyond that DuckDB raises an overflow error). -#}
    cast(round({{ value }} * 100000000) as bigint)
{%- endmacro %}
