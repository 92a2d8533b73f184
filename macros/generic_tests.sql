{#- The rows sharing a value combination that should be unique (dbt_utils has this; no
    packages can be downloaded here). -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}


{#- Rows where a numeric column is negative. -#}
{% test not_negative(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 0

{% endtest %}


{#- A primary key: the values that are null or held by more than one row. One query (and
    one dbt node) instead of `unique` plus `not_null`.
    `narrow_to` (a model incremental by time entry, macros/incremental/reach.sql): on a
    rebuild narrowed to a day's time entries, only the keys of the rows this build wrote
    are checked — `restaged` (the staged entries: staged_in_invocation) or `reached` (a
    reach model: its rows of the entries its pre_hook noted). Every other row was kept from
    the last build, which passed this test, so a duplicate or a null now involves a
    written row. Any other build checks every row. -#}
{% test primary_key(model, column_name, narrow_to=none) %}

{%- set written = rows_written_by_narrowed_rebuild(model, narrow_to) %}
{%- if written %}
with written_keys as (
    select {{ column_name }} as key_value
    from {{ model }}
    where {{ written }}
)

select
    {{ column_name }} as key_value,
    count(*) as occurrences
from {{ model }}
where {{ column_name }} in (select written_keys.key_value from written_keys)
group by {{ column_name }}
having count(*) > 1
union all
select
    null as key_value,
    count(*) as occurrences
from written_keys
where written_keys.key_value is null
having count(*) > 0
{%- else %}
select
    {{ column_name }} as key_value,
    count(*) as occurrences
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{%- endif %}

{% endtest %}


{#- SQL condition: the rows of `model` this dbt invocation wrote, on a rebuild narrowed to
    time entries (TAKTGEBER_CHANGED_SOURCES); none on any other build, or when the model's
    reach was not noted by this invocation (then every row is checked). -#}
{% macro rows_written_by_narrowed_rebuild(model, narrow_to) %}
    {%- if narrow_to is none or not execute
        or env_var('TAKTGEBER_CHANGED_SOURCES', '') != 'raw_harvest.time_entries' -%}
        {{ return(none) }}
    {%- elif narrow_to == 'restaged' -%}
        {{ return("staged_in_invocation = '" ~ invocation_id ~ "'") }}
    {%- elif narrow_to == 'reached' -%}
        {%- set reached = 'taktgeber_meta.reached__' ~ model.identifier -%}
        {%- if not meta_table_exists('reached__' ~ model.identifier) -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set now = run_query(
            "select count(*) from " ~ reached ~ " where invocation_id = '" ~ invocation_id ~ "'") -%}
        {%- if now.columns[0].values()[0] == 0 -%}
            {{ return(none) }}
        {%- endif -%}
        {{ return("harvest_time_entry_id in (select harvest_time_entry_id from " ~ reached
            ~ " where invocation_id = '" ~ invocation_id ~ "')") }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "primary_key on " ~ model ~ ": narrow_to must be 'restaged' or 'reached', not '"
            ~ narrow_to ~ "'") }}
    {%- endif -%}
{% endmacro %}
