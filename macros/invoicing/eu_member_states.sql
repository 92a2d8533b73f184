{% macro eu_member_states() -%}
    {#- ISO 3166-1 alpha-2 codes of the 27 EU member states (Greece also as 'EL', the code
        its VAT ids carry), as a SQL list literal for `list_contains(...)`. -#}
    ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'EL', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK']
{%- endmacro %}
