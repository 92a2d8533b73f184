{#- The rows sharing a value combination that should be unique (dbt_utils has this; no
    packages can be downloaded here). -#}
{% test unique_combination(model, columns, narrow_to=none) %}

{%- if narrow_to is not none and 'month' not in columns %}
    {{ exceptions.raise_compiler_error(
        "unique_combination on " ~ model ~ ": narrow_to needs `month` among the columns") }}
{%- endif %}
{%- set written = rows_written_by_narrowed_rebuild(model, narrow_to) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
{%- if written is string %}
-- rows sharing a month share it with a written row, or with none of them
where {{ written }}
{%- elif written %}
where rowid in ({{ select_where(model, written, 'rowid') }})
{%- endif %}
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
    `narrow_to` (a model incremental by reach, macros/incremental/reach.sql): on a
    narrowed rebuild (a day's time entries, invoices or push ledger), only the keys of
    the rows this build wrote are checked — `restaged` (the staged entries:
    staged_in_invocation), `reached` (a reach model: its rows of the work records its
    pre_hook noted, by time entry and, when it reached other records too, work_item_id)
    or `reached_months` (a
    per-month reach model: its rows of the months from the first one its pre_hook noted).
    Every other row was kept from the last build, which passed this test, so a duplicate
    or a null now involves a written row. Any other build checks every row. -#}
{% test primary_key(model, column_name, narrow_to=none) %}

{%- set written = rows_written_by_narrowed_rebuild(model, narrow_to) %}
{%- set keys = written_keys(model, column_name, written) if written else none %}
{%- if keys is not none %}
{#- the written keys, read once and checked as a list in the query: DuckDB tests each row
    against it while it scans, where a semi-join on the written rows scanned the table
    twice (0.27 s → 0.12 s on 8.5M billing links at 10m) #}
select
    {{ column_name }} as key_value,
    count(*) as occurrences
from {{ model }}
where {{ column_name }} in ({{ keys.listed }})
group by {{ column_name }}
having count(*) > 1
union all
select
    null as key_value,
    {{ keys.nulls }} as occurrences
where {{ keys.nulls }} > 0
{%- elif written %}
with written_keys as (
    select written.{{ column_name }} as key_value
    from ({{ select_where(model, written, column_name) }}) as written
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


{#- The keys `column_name` of the rows of `model` where `written` holds, when at most 1,000
    (else none): {listed: SQL literals, comma-separated ('null' for none at all), nulls:
    how many rows hold no key}. -#}
{% macro written_keys(model, column_name, written) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select distinct " ~ column_name ~ " from (" ~ select_where(model, written, column_name) ~ ")"
        ~ " order by 1 nulls first limit 1002") -%}
    {%- set values = found.columns[0].values() | list -%}
    {%- set keys = values | reject('none') | list -%}
    {%- if keys | length > 1000 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set nulls = run_query(
        "select count(*) from (" ~ select_where(model, written, column_name) ~ ") where "
        ~ column_name ~ " is null").columns[0].values()[0] if values | length > keys | length else 0 -%}
    {%- set listed = [] -%}
    {%- for key in keys -%}
        {%- do listed.append("'" ~ (key | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return({'listed': listed | join(', ') if listed else 'null', 'nulls': nulls}) }}
{% endmacro %}


{#- SQL condition (or a pair of them, `select_where`): the rows of `model` this dbt
    invocation wrote, on a rebuild that may be
    narrowed (TAKTGEBER_CHANGED_SOURCES: time entries, Xero changes the per-entry models
    may pass); none on any other build, or when the model's reach was not noted by this
    invocation (then every row is checked). -#}
{% macro rows_written_by_narrowed_rebuild(model, narrow_to) %}
    {%- if narrow_to is none or not execute or not changes_reach_may_pass() -%}
        {{ return(none) }}
    {%- elif narrow_to == 'restaged' -%}
        {{ return("staged_in_invocation = '" ~ invocation_id ~ "'") }}
    {%- elif narrow_to in ('reached', 'reached_months') -%}
        {%- set reached = 'taktgeber_meta.reached__' ~ model.identifier -%}
        {%- if not meta_table_exists('reached__' ~ model.identifier) -%}
            {{ return(none) }}
        {%- endif -%}
        {#- noted by this invocation: the entries' note says so in its comment (it may
            hold none), the months' note in its one row -#}
        {%- set now = run_query(
            "select (select count(*) from " ~ reached ~ " where invocation_id = '" ~ invocation_id ~ "')"
            ~ " + (select count(*) from duckdb_tables() where database_name = current_database()"
            ~ " and schema_name = 'taktgeber_meta' and table_name = 'reached__" ~ model.identifier ~ "'"
            ~ " and comment = '" ~ invocation_id ~ "')") -%}
        {%- if now.columns[0].values()[0] == 0 -%}
            {{ return(none) }}
        {%- endif -%}
        {%- if narrow_to == 'reached' -%}
        {%- set entries = "harvest_time_entry_id in (select harvest_time_entry_id from " ~ reached
            ~ " where invocation_id = '" ~ invocation_id ~ "')" -%}
        {%- if reached_kinds() | reject('equalto', 'time') | list | length == 0 -%}
        {{ return(entries) }}
        {%- endif -%}
        {#- records other than time entries reached too: by work_item_id, or every row of a
            model without one that is not of time entries alone -#}
        {%- set columns = adapter.get_columns_in_relation(model) | map(attribute='name') | list -%}
        {%- if 'work_item_id' in columns -%}
        {#- two conditions, read as two scans (`select_where`): an `or` of the two keys
            reads every row (see `reached_rows`) #}
        {{ return([entries, "work_item_id in (select work_item_id from " ~ reached
            ~ " where invocation_id = '" ~ invocation_id ~ "' and work_item_kind <> 'time')"]) }}
        {%- elif 'work_item_kind' not in columns and 'harvest_expense_id' not in columns -%}
        {{ return(entries) }}
        {%- endif -%}
        {{ return(none) }}
        {%- else -%}
        {{ return("month >= (select first_month from " ~ reached
            ~ " where invocation_id = '" ~ invocation_id ~ "')") }}
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "a test on " ~ model ~ ": narrow_to must be 'restaged', 'reached' or "
            ~ "'reached_months', not '" ~ narrow_to ~ "'") }}
    {%- endif -%}
{% endmacro %}
