{#- Xero's "/Date(1539993600000+0000)/" (ms since epoch, UTC) as a date. -#}
{% macro xero_date(column) %}
    cast(to_timestamp(cast(regexp_extract({{ column }}, '/Date\((-?\d+)', 1) as bigint) / 1000.0) at time zone 'UTC' as date)
{%- endmacro %}


{#- Xero's "/Date(…)/" as a UTC timestamp. -#}
{% macro xero_timestamp(column) %}
    cast(to_timestamp(cast(regexp_extract({{ column }}, '/Date\((-?\d+)', 1) as bigint) / 1000.0) at time zone 'UTC' as timestamp)
{%- endmacro %}


{#- Money: DECIMAL with 2 places (amounts), always next to a currency_code column. -#}
{% macro money(expression) %}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}


{#- A HubSpot property ("true"/"false"/null, strings) as boolean. -#}
{% macro hubspot_bool(expression) %}
    case lower(trim({{ expression }})) when 'true' then true when 'false' then false end
{%- endmacro %}


{#- A HubSpot ISO datetime or date string as a date (empty string → null). -#}
{% macro hubspot_date(expression) %}
    cast(left(nullif(trim({{ expression }}), ''), 10) as date)
{%- endmacro %}
