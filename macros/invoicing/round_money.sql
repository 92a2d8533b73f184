{% macro round_money(amount, places=2) -%}
    {#- DESIGN.md §7 rounding, the same rule as taktgeber.money.round_money: half-up to the
        cent (half away from zero, so -0.005 → -0.01). Exact on DECIMAL input. -#}
    cast(round(cast({{ amount }} as decimal(38, 10)), {{ places }}) as decimal(18, {{ places }}))
{%- endmacro %}
