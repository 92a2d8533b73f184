{#- The reconciliation date: var `as_of_date`, or today (UTC) when unset. -#}
{% macro as_of_date() %}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' -%}
        cast(current_date as date)
    {%- else -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- Amount tolerance (DESIGN.md §6): a gap counts when it exceeds max(1.00 EUR, 0.5 % of
    the expected amount), compared in the amounts' own currency (1.00 EUR converted at
    `units_per_eur` of that currency; pass 1 for EUR amounts). -#}
{% macro exceeds_tolerance(gap, expected, units_per_eur=1) %}
    (abs({{ gap }}) > greatest(cast({{ var('tolerance_eur') }} as decimal(18, 2)) * coalesce({{ units_per_eur }}, 1), abs({{ expected }}) * {{ var('tolerance_percent') }} / 100))
{%- endmacro %}


{#- An amount in EUR at `units_per_eur` (units of its currency per 1 EUR), to the cent. -#}
{% macro to_eur(amount, units_per_eur) %}
    {{ round_money(amount ~ ' / ' ~ units_per_eur) }}
{%- endmacro %}


{#- Severity (DESIGN.md §6): high ≥ 5,000 EUR or blocks a draft, medium ≥ 500 EUR, else low. -#}
{% macro severity(amount_eur, blocks_draft) %}
    case
        when coalesce({{ blocks_draft }}, false) or {{ amount_eur }} >= {{ var('high_severity_eur') }} then 'high'
        when {{ amount_eur }} >= {{ var('medium_severity_eur') }} then 'medium'
        else 'low'
    end
{%- endmacro %}


{#- Half-up rounding to the cent (DuckDB rounds DECIMAL half away from zero). -#}
{% macro round_money(expression) %}
    cast(round(cast({{ expression }} as decimal(38, 6)), 2) as decimal(18, 2))
{%- endmacro %}


{#- The member states of the EU (ISO-2; Greece as GR). -#}
{% macro eu_country_codes() %}
    ('AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE',
     'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK')
{%- endmacro %}
