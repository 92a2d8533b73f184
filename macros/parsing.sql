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




{#- Any ISO date / datetime (text or timestamp) as a date; empty string → null. -#}
{% macro iso_date(expression) %}
    cast(left(nullif(trim(cast({{ expression }} as varchar)), ''), 10) as date)
{%- endmacro %}


{#- Any ISO datetime (text or timestamp with time zone) as a UTC timestamp. -#}
{% macro iso_timestamp(expression) %}
    cast(cast(nullif(trim(cast({{ expression }} as varchar)), '') as timestamptz) as timestamp)
{%- endmacro %}
