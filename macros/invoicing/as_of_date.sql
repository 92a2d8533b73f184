{% macro tg_as_of_date() -%}
    {#- The `as_of_date` var as a DATE literal; null (the default) means today (UTC).
        Drafts are dated on it, and every age and due date is computed against it. -#}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value | string | trim == '' -%}
        cast(timezone('UTC', now()) as date)
    {%- else -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}
