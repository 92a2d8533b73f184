{#- Xero's "/Date(1539993600000+0000)/" (ms since epoch, UTC) as a date. `epoch_ms` gives
    the UTC timestamp without a time-zone conversion (3× faster than `to_timestamp … at
    time zone 'UTC'`, the same value). -#}
{% macro xero_date(column) %}
    cast(epoch_ms(cast(regexp_extract({{ column }}, '/Date\((-?\d+)', 1) as bigint)) as date)
{%- endmacro %}


{#- Xero's "/Date(…)/" as a UTC timestamp. -#}
{% macro xero_timestamp(column) %}
    cast(epoch_ms(cast(regexp_extract({{ column }}, '/Date\((-?\d+)', 1) as bigint)) as timestamp)
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
